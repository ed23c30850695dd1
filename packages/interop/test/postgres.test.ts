import { definePackSuite } from './support/suite.js';

definePackSuite('postgres');
