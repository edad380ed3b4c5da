import { fuzzSql } from "./sql.js";

await fuzzSql("mysql", 1000);
