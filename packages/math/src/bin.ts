#!/usr/bin/env node
import { runCli } from '@stepflow-packs/core';
import { mathPack } from './index.js';

await runCli(mathPack);
