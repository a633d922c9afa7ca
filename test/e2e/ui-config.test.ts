/**
 * The web UI in Chromium against a real `weft controlplane` (which serves it
 * at `/`): the shell (keyboard navigation, colour scheme, API token), and the
 * Configuration page — every kind listed, create/edit/delete as YAML, live
 * updates from the watch stream, and invalid YAML answered with the server's
 * field error while the stored resource stays as it was. No console errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { echoMeshYaml, echoSplitYaml, newSqliteConfig, startControlPlane, type ControlPlaneProcess } from './controlplane-harness.js';
import { waitFor } from './harness.js';
import { openUi, type UiSession } from './ui-harness.js';

const SPLIT_URL = '/apis/split.smi-spec.io/v1alpha4/namespaces/default/trafficsplits/echo-rollout';
const SERVICE_URL = '/apis/mesh.weft.dev/v1alpha1/namespaces/default/services';

describe('web UI: shell and Configuration (Chromium)', () => {
  let cp: ControlPlaneProcess;
  let ui: UiSession;
  let dataDir: string;

  before(async () => {
    const config = await newSqliteConfig();
    dataDir = (config.store as { dataDir: string }).dataDir;
    cp = await startControlPlane(config);
    const mesh = await cp.weft(['apply', '-f', '-'], `${echoMeshYaml({ v1: 1, v2: 2 })}---\n${echoSplitYaml({ v1: 90, v2: 10 })}`);
    assert.equal(mesh.code, 0, mesh.stderr);
    ui = await openUi(cp.url, { token: cp.adminToken() });
  });

  after(async () => {
    await ui?.close();
    await cp?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the app at / and lists every kind the API serves, with counts', async () => {
    const index = await cp.api('/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /text\/html/);
    await ui.open('config', 'Configuration');
    const openapi = (await (await cp.api('/openapi.json')).json()) as { paths: Record<string, { post?: { operationId?: string } }> };
    // Resource kinds as the UI finds them: collections under /apis with a create operation (tokens are not a kind).
    const kinds = Object.entries(openapi.paths).flatMap(([path, ops]) => (path.startsWith('/apis/') ? (/^create([A-Za-z]+)$/.exec(ops.post?.operationId ?? '')?.[1] ?? []) : []));
    assert.ok(kinds.length >= 8, `kinds: ${kinds.join(', ')}`);
    const kindNav = ui.page.getByRole('navigation', { name: 'Kinds' });
    for (const kind of kinds) await kindNav.getByRole('link', { name: new RegExp(`^${kind}\\s*\\d+$`) }).waitFor();
    await kindNav.getByRole('link', { name: /^Service\s*3$/ }).waitFor();
    await kindNav.getByRole('link', { name: /^Workload\s*2$/ }).waitFor();
  });

  it('is keyboard navigable: Tab reaches the navigation and Enter opens a page', async () => {
    await ui.open('config', 'Configuration');
    await ui.page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 12 && !reached; i++) {
      await ui.page.keyboard.press('Tab');
      reached = await ui.page.evaluate(() => document.activeElement?.textContent === 'Proxies');
    }
    assert.ok(reached, 'Tab reached the Proxies link');
    await ui.page.keyboard.press('Enter');
    await ui.page.getByRole('heading', { level: 1, name: 'Proxies' }).waitFor();
    assert.match(ui.page.url(), /#\/proxies$/);
  });

  it('follows prefers-color-scheme and keeps a chosen scheme across reloads', async () => {
    await ui.open('config', 'Configuration');
    const theme = (): Promise<string | undefined> => ui.page.evaluate(() => document.documentElement.dataset['theme']);
    assert.equal(await theme(), 'light');
    await ui.page.emulateMedia({ colorScheme: 'dark' });
    await waitFor(async () => (await theme()) === 'dark', 'the system dark scheme to apply');
    await ui.page.getByRole('button', { name: /Switch to light colours/ }).click();
    assert.equal(await theme(), 'light');
    await ui.page.reload();
    await ui.page.getByRole('heading', { level: 1, name: 'Configuration' }).waitFor();
    assert.equal(await theme(), 'light', 'the choice beats the system scheme after a reload');
    const background = await ui.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await ui.page.getByRole('button', { name: /Switch to dark colours/ }).click();
    assert.equal(await theme(), 'dark');
    assert.notEqual(await ui.page.evaluate(() => getComputedStyle(document.body).backgroundColor), background);
    await ui.open('config/TrafficSplit/default/echo-rollout', 'Configuration');
    await ui.screenshot('configuration-dark');
    await ui.page.getByRole('button', { name: /Switch to light colours/ }).click();
    await ui.page.emulateMedia({ colorScheme: 'light' });
  });

  it('sends the API token as a bearer token and keeps it in localStorage', async () => {
    // A second, read-only token: the UI must switch to whatever token is pasted (reads still work), then back.
    const created = await cp.weft(['token', 'create', '--role', 'read-only']);
    assert.equal(created.code, 0, created.stderr);
    const readOnly = created.stdout.trim().split('\n').at(-1)!.trim();
    await ui.open('config', 'Configuration');
    await ui.page.getByLabel('API token').fill(readOnly);
    const sent = ui.page.waitForRequest((req) => req.url().includes('/api') && req.headers()['authorization'] === `Bearer ${readOnly}`, { timeout: 10_000 });
    await ui.page.getByRole('button', { name: 'Save' }).click();
    await sent;
    assert.equal(await ui.page.evaluate(() => localStorage.getItem('weft.apiToken')), readOnly);
    await ui.page.getByLabel('API token').fill(cp.adminToken());
    await ui.page.getByRole('button', { name: 'Save' }).click();
    assert.equal(await ui.page.evaluate(() => localStorage.getItem('weft.apiToken')), cp.adminToken());
  });

  it('creates a resource from YAML, shows changes made elsewhere live, and deletes it', async () => {
    await ui.open('config/Service', 'Configuration');
    await ui.page.getByRole('button', { name: 'New Service' }).click();
    await ui.page.getByLabel('YAML').fill(`apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata:
  name: ui-made
  namespace: default
spec:
  ports:
    - name: http
      port: 8080
`);
    await ui.page.getByRole('button', { name: 'Apply', exact: true }).click();
    await ui.page.getByText(/Applied Service default\/ui-made/).waitFor();
    const created = await cp.api(`${SERVICE_URL}/ui-made`);
    assert.equal(created.status, 200, 'the API has it');
    assert.equal(((await created.json()) as { spec: { ports: Array<{ port: number }> } }).spec.ports[0]!.port, 8080);
    await ui.page.getByRole('row', { name: /ui-made/ }).waitFor();

    // Another client changes it: the open editor follows without a reload.
    const marker = await ui.page.evaluate(() => ((window as unknown as { marker: number }).marker = Math.random()));
    const changed = await cp.weft(['apply', '-f', '-'], 'apiVersion: mesh.weft.dev/v1alpha1\nkind: Service\nmetadata:\n  name: ui-made\nspec:\n  ports:\n    - { name: http, port: 9090 }\n');
    assert.equal(changed.code, 0, changed.stderr);
    await waitFor(async () => (await ui.page.getByLabel('YAML').inputValue()).includes('port: 9090'), 'the editor to show the change from the watch stream');
    assert.equal(await ui.page.evaluate(() => (window as unknown as { marker: number }).marker), marker, 'no page reload');

    await ui.page.getByRole('button', { name: 'Delete' }).click();
    await ui.page.getByRole('button', { name: 'Yes, delete' }).click();
    await waitFor(async () => (await cp.api(`${SERVICE_URL}/ui-made`)).status === 404, 'the delete to reach the API');
    await ui.page.getByRole('row', { name: /ui-made/ }).waitFor({ state: 'detached' });
  });

  it('answers invalid YAML with the field error at its line and changes nothing', async () => {
    const before = (await (await cp.api(SPLIT_URL)).json()) as { metadata: { resourceVersion: string }; spec: unknown };
    await ui.open('config/TrafficSplit/default/echo-rollout', 'Configuration');
    const editor = ui.page.getByLabel('YAML');
    await waitFor(async () => (await editor.inputValue()).includes('weight: 90'), 'the split in the editor');

    // Broken YAML: refused before it is sent.
    const text = await editor.inputValue();
    await editor.fill(`${text}\n  : : [\n`);
    await ui.page.getByRole('button', { name: 'Apply', exact: true }).click();
    await ui.page.getByText('The YAML does not parse.').waitFor();

    // Well-formed but invalid: the server's field errors, each at its field and line.
    ui.expectHttpFailure(400, SPLIT_URL);
    await editor.fill(text.replace('weight: 90', 'weight: -5').replace('weight: 10', 'weight: 10\n      port: 80'));
    await ui.page.getByRole('button', { name: 'Apply', exact: true }).click();
    const weightError = ui.page.locator('.field-error[data-field="spec.backends[0].weight"]');
    await weightError.waitFor();
    assert.match(await weightError.innerText(), /spec\.backends\[0\]\.weight/);
    const lines = (await editor.inputValue()).split('\n');
    const weightLine = lines.findIndex((l) => l.includes('weight: -5')) + 1;
    assert.match(await weightError.innerText(), new RegExp(`line ${weightLine}\\b`), 'the error points at the line of the bad weight');
    await ui.page.locator('.field-error[data-field="spec.backends[1].port"]').waitFor();
    await weightError.getByRole('button', { name: `line ${weightLine}` }).click();
    const selected = await editor.evaluate((el: HTMLTextAreaElement) => el.value.slice(el.selectionStart, el.selectionEnd));
    assert.match(selected, /weight: -5/, 'the line button selects the offending line');
    await ui.screenshot('configuration-invalid');

    const afterwards = (await (await cp.api(SPLIT_URL)).json()) as { metadata: { resourceVersion: string }; spec: unknown };
    assert.equal(afterwards.metadata.resourceVersion, before.metadata.resourceVersion, 'nothing was written');
    assert.deepEqual(afterwards.spec, before.spec);
  });

  it('logged no console errors but the ones the tests provoked', async () => {
    await ui.open('config/TrafficSplit/default/echo-rollout', 'Configuration');
    // The editor keeps an unsaved draft across navigation; Revert shows the stored resource again.
    await ui.page.getByRole('button', { name: 'Revert' }).click();
    assert.doesNotMatch(await ui.page.locator('textarea').first().inputValue(), /weight: -5/);
    await ui.screenshot('configuration');
    assert.deepEqual(ui.errors(), []);
  });
});
