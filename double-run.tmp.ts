import { startEventStoreDouble } from '/work/main/test/support/eventstore-double/index.js';
const d = await startEventStoreDouble();
console.log(d.connectionString);
setInterval(() => {}, 1000);
