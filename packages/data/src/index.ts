import { createRequire } from 'node:module';
import { definePack } from '@stepflow-packs/core';
import { aggregate } from './components/aggregate.js';
import { batchProcessing } from './components/batch-processing.js';
import { deduplicate } from './components/deduplicate.js';
import { distributedProcessing } from './components/distributed-processing.js';
import { filterRecords } from './components/filter-records.js';
import { formatCsv } from './components/format-csv.js';
import { mapFields } from './components/map-fields.js';
import { parseCsv } from './components/parse-csv.js';
import { processData } from './components/process-data.js';
import { robustProcessing } from './components/robust-processing.js';
import { sortRecords } from './components/sort-records.js';
import { settings } from './settings.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const dataPack = definePack({
  name: 'data',
  version,
  description: 'Record and data processing',
  settings,
  components: [
    processData,
    robustProcessing,
    batchProcessing,
    distributedProcessing,
    filterRecords,
    mapFields,
    sortRecords,
    aggregate,
    deduplicate,
    parseCsv,
    formatCsv,
  ],
});

export {
  aggregate,
  batchProcessing,
  deduplicate,
  distributedProcessing,
  filterRecords,
  formatCsv,
  mapFields,
  parseCsv,
  processData,
  robustProcessing,
  settings,
  sortRecords,
};
