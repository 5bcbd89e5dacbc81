// Runs SQL in an in-memory DuckDB for the benchmarks (bench/common.sh).
//   node bench/duck.mjs 'SQL'            or   node bench/duck.mjs --file F.sql
// Statements are separated by ';' at the end of a line and run in order;
// the rows of the last one are printed as tab-separated text (at most
// DUCK_PRINT rows, default 20, then the row count).
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
if (args.length < 1 || (args[0] === '--file' && args.length < 2)) {
	console.error('usage: node duck.mjs SQL | --file FILE');
	process.exit(2);
}
const sql = args[0] === '--file' ? readFileSync(args[1], 'utf8') : args[0];
const statements = sql.split(/;\s*\n/).map((s) => s.trim().replace(/;$/, '')).filter((s) => s.length);
const limit = Number(process.env.DUCK_PRINT ?? 20);

try {
	const db = await DuckDBInstance.create(':memory:');
	const conn = await db.connect();
	let reader = null;
	for (const s of statements) reader = await conn.runAndReadAll(s);
	if (reader) {
		const names = reader.columnNames();
		const rows = reader.getRows();
		if (names.length) console.log(names.join('\t'));
		for (const r of rows.slice(0, limit)) console.log(r.map((v) => String(v)).join('\t'));
		if (rows.length > limit) console.log(`... ${rows.length} rows`);
	}
	conn.closeSync?.();
} catch (e) {
	console.error(`duck.mjs: ${e.message}`);
	process.exit(1);
}
