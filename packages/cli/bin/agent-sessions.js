#!/usr/bin/env node
// The built command line lives in dist/ (`pnpm build`); this file only starts it and exits with its code.
import { main } from "../dist/index.js";

process.exit(await main(process.argv.slice(2)));
