import { createRequire } from 'node:module';
import { definePack } from '@stepflow-packs/core';
import { add } from './components/add.js';
import { calculate } from './components/calculate.js';
import { divide } from './components/divide.js';
import { max } from './components/max.js';
import { mean } from './components/mean.js';
import { min } from './components/min.js';
import { multiply } from './components/multiply.js';
import { power } from './components/power.js';
import { round } from './components/round.js';
import { sqrt } from './components/sqrt.js';
import { subtract } from './components/subtract.js';
import { sum } from './components/sum.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const mathPack = definePack({
  name: 'math',
  version,
  description: 'Arithmetic and list statistics',
  components: [calculate, add, subtract, multiply, divide, power, sqrt, round, sum, mean, min, max],
});

export { add, calculate, divide, max, mean, min, multiply, power, round, sqrt, subtract, sum };
