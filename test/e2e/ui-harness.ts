/**
 * Browser tests of the web UI: Debian's Chromium (/usr/bin/chromium) driven
 * by playwright-core, never a downloaded browser. Collects console errors and
 * uncaught page errors; an HTTP failure the test provoked on purpose (a 400
 * for invalid YAML) is declared with expectHttpFailure and not counted.
 * Screenshots go to test-output/ui/, and to docs/ui/ when WEFT_UI_DOCS=1.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'ui');
const DOCS_DIR = join(REPO_ROOT, 'docs', 'ui');

export interface UiSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors so far, less the declared expected HTTP failures. */
  errors(): string[];
  /** A response with this status whose URL contains `urlPart` is expected (the test provoked it). */
  expectHttpFailure(status: number, urlPart: string): void;
  /** Opens `#/route` and waits until the app rendered the page's heading. */
  open(route: string, heading: string | RegExp): Promise<void>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** `token`: the API token the UI sends (stored where the UI keeps it, before any page script runs). */
export async function openUi(baseUrl: string, options: { colorScheme?: 'light' | 'dark'; token?: string } = {}): Promise<UiSession> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  const context = await browser.newContext({ viewport: { width: 1400, height: 950 }, colorScheme: options.colorScheme ?? 'light' });
  if (options.token !== undefined) await context.addInitScript((token: string) => localStorage.setItem('weft.apiToken', token), options.token);
  const page = await context.newPage();
  const errors: Array<{ text: string; url: string; status?: number }> = [];
  const expected: Array<{ status: number; urlPart: string }> = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const status = /status of (\d{3})/.exec(message.text())?.[1];
    errors.push({ text: message.text(), url: message.location().url, ...(status ? { status: Number(status) } : {}) });
  });
  page.on('pageerror', (err) => errors.push({ text: `uncaught: ${err.message}`, url: '' }));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const session: UiSession = {
    browser,
    context,
    page,
    errors: () =>
      errors
        .filter((e) => !(e.status !== undefined && expected.some((x) => x.status === e.status && e.url.includes(x.urlPart))))
        .map((e) => `${e.text}${e.url ? ` (${e.url})` : ''}`),
    expectHttpFailure: (status, urlPart) => void expected.push({ status, urlPart }),
    async open(route, heading) {
      await page.goto(`${baseUrl}/#/${route}`);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 15_000 });
    },
    async screenshot(name) {
      const file = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      if (process.env['WEFT_UI_DOCS'] === '1') {
        mkdirSync(DOCS_DIR, { recursive: true });
        await page.screenshot({ path: join(DOCS_DIR, `${name}.png`), fullPage: true });
      }
      return file;
    },
    close: () => browser.close(),
  };
  return session;
}
