import { definePackSuite } from './support/suite.js';

definePackSuite('data');
