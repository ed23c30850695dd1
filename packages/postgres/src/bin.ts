#!/usr/bin/env node
import { runCli } from '@stepflow-packs/core';
import { postgresPack } from './index.js';

await runCli(postgresPack);
