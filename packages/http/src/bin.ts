#!/usr/bin/env node
import { runCli } from '@stepflow-packs/core';
import { httpPack } from './index.js';

await runCli(httpPack);
