import { fuzzSql } from "./sql.js";

await fuzzSql("postgres", 1000);
