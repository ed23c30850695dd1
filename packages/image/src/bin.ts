#!/usr/bin/env node
import { runCli } from '@stepflow-packs/core';
import { imagePack } from './index.js';

await runCli(imagePack);
