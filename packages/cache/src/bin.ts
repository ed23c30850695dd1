#!/usr/bin/env node
import { runCli } from '@stepflow-packs/core';
import { cachePack } from './index.js';

await runCli(cachePack);
