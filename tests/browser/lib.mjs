// Shared by the browser tests: Debian's chromium driven by playwright-core, a
// fresh profile per run, screenshots under $XENCI_BUILD/screenshots, and the
// "N passed, N failed" count that tests/run.sh reads.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const root = process.env.XENCI_ROOT || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const build = process.env.XENCI_BUILD || path.join(root, 'build');
export const shots = path.join(build, 'screenshots');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
	'--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

// A browser with its own throw-away profile; close() removes the profile.
export async function launch() {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'xenci-chromium-'));
	const ctx = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ARGS,
		viewport: { width: 1280, height: 900 },
	});
	return {
		ctx,
		async close() {
			await ctx.close().catch(() => {});
			fs.rmSync(profile, { recursive: true, force: true });
		},
	};
}

let passed = 0;
let failed = 0;

// Runs one named check; a throw is a failure with its message.
export async function check(name, fn) {
	const t0 = Date.now();
	try {
		await fn();
		passed++;
		console.log(`ok   ${name} (${Date.now() - t0} ms)`);
	} catch (e) {
		failed++;
		console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
	}
}

export function assert(cond, msg) {
	if (!cond)
		throw new Error(msg || 'assertion failed');
}

export async function screenshot(page, name) {
	fs.mkdirSync(shots, { recursive: true });
	await page.screenshot({ path: path.join(shots, name), fullPage: false });
}

// Prints the count and exits non-zero on any failure.
export function finish() {
	console.log(`${passed} passed, ${failed} failed`);
	process.exitCode = failed ? 1 : 0;
}
