import { fuzzSql } from "./sql.js";

await fuzzSql("sqlite", 1000);
