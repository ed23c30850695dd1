#!/usr/bin/env node
import { runCli } from '@stepflow-packs/core';
import { dataPack } from './index.js';

await runCli(dataPack);
