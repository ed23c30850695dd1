import { definePackSuite } from './support/suite.js';

definePackSuite('examples');
