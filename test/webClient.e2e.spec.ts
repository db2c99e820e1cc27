import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  freePort,
  printOutputs,
  startService,
  startStack,
  type ServiceProcess,
  type Stack,
} from '@tweeter/shared/testing';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The web client in a real browser (Debian's Chromium, driven by playwright-core) against the
 * real product: command service, projector and query service as processes, and the web server
 * forwarding to them. Two people in two browser contexts: one follows the other on the profile
 * page, sees the other's new tweet arrive in the home timeline without a reload (the stream), and
 * sees it leave when it is deleted. Everything is found by accessible role and name.
 */
const executablePath = '/usr/bin/chromium';
const haveChromium = existsSync(executablePath);
if (!haveChromium)
  console.warn(
    `webClient.e2e: SKIPPED, no browser at ${executablePath} (install Debian's chromium package: bash scripts/ensure-chromium.sh)`,
  );

describe.skipIf(!haveChromium)('the web client in Chromium', () => {
  let stack: Stack;
  let web: ServiceProcess;
  let browser: Browser;
  let failed = false;
  const suffix = String(Date.now() % 100000);

  beforeAll(async () => {
    // The client as `npm run build` makes it, served by the web server from web/dist.
    await build({ configFile: 'web/vite.config.ts', logLevel: 'warn' });
    stack = await startStack({ TIMELINE_STREAM_HEARTBEAT_MS: '5000' });
    const port = await freePort();
    web = await startService({
      name: 'web',
      entry: 'web/server/main.ts',
      env: {
        WEB_PORT: String(port),
        COMMAND_URL: stack.command.baseUrl,
        QUERY_URL: stack.query.baseUrl,
      },
      port,
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (failed) printOutputs([web]);
    await web?.stop();
    await stack?.stop({ printOutput: failed });
  });

  async function signUp(page: Page, username: string): Promise<string> {
    await page.goto(web.baseUrl);
    await page.getByRole('textbox', { name: 'Username' }).fill(username);
    await page.getByRole('button', { name: 'Sign up' }).click();
    const token = await page.getByLabel('Your token').textContent();
    await expect.poll(() => page.getByText('shown only this once').count()).toBe(1);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('feed', { name: 'Home timeline' }).waitFor({ state: 'attached' });
    return token!.trim();
  }

  it('follows, sees a tweet arrive live, and sees it go when deleted', async ({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
    const alice = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    const aliceName = `alice${suffix}`;
    const bobName = `bob${suffix}`;
    const aliceToken = await signUp(alice, aliceName);
    expect(aliceToken).toMatch(/^mt_[0-9a-f]{32}_/);
    await signUp(bob, bobName);

    // Alice follows Bob on his profile page; the counters follow.
    await alice.goto(`${web.baseUrl}/@${bobName}`);
    await alice.getByRole('button', { name: 'Follow', exact: true }).click();
    await alice.getByRole('button', { name: 'Unfollow' }).waitFor();
    await expect.poll(() => alice.locator('.counters').textContent()).toContain('Followers1');
    // Back home through the client's own link (no reload from here on).
    await alice.getByRole('link', { name: 'Mini Tweeter' }).click();
    const aliceFeed = alice.getByRole('feed', { name: 'Home timeline' });
    await aliceFeed.waitFor({ state: 'attached' });
    await alice.waitForTimeout(500);

    // Bob posts; his own tweet shows at once, and Alice's home shows it within 2 s, live.
    const text = `Hello from ${bobName} at ${new Date().toISOString()}`;
    await bob.getByRole('textbox', { name: "What's happening?" }).fill(text);
    await bob.getByRole('button', { name: 'Post' }).click();
    const bobsArticle = bob
      .getByRole('feed', { name: 'Home timeline' })
      .getByRole('article')
      .filter({ hasText: text });
    await bobsArticle.waitFor({ timeout: 2000 });
    const posted = Date.now();
    const alicesArticle = aliceFeed.getByRole('article').filter({ hasText: text });
    await alicesArticle.waitFor({ timeout: 2000 });
    const arrivedInMs = Date.now() - posted;
    mkdirSync('.stack', { recursive: true });
    await alice.screenshot({ path: '.stack/web-client.png', fullPage: true });
    console.log(
      `web client: Bob's tweet appeared in Alice's home ${arrivedInMs} ms after his own; screenshot .stack/web-client.png`,
    );

    // Bob deletes it: it leaves Alice's home without a reload.
    await bobsArticle.getByRole('button', { name: 'Delete' }).click();
    await bobsArticle.waitFor({ state: 'detached', timeout: 5000 });
    await alicesArticle.waitFor({ state: 'detached', timeout: 5000 });
    // Alice has no Delete on someone else's tweet, and the page never reloaded: no navigation.
    expect(await alice.evaluate('performance.getEntriesByType("navigation").length')).toBe(1);

    // Signing in elsewhere with the token shows the same home.
    const elsewhere = await (await browser.newContext()).newPage();
    await elsewhere.goto(web.baseUrl);
    await elsewhere.getByRole('textbox', { name: 'Token' }).fill(aliceToken);
    await elsewhere.getByRole('button', { name: 'Sign in' }).click();
    await elsewhere.getByRole('feed', { name: 'Home timeline' }).waitFor({ state: 'attached' });
    await elsewhere.getByRole('link', { name: `@${aliceName}` }).waitFor();
  });

  it('counts code points after NFC as the server does, and shows server errors in words', async () => {
    const page = await (await browser.newContext()).newPage();
    await signUp(page, `carol${suffix}`);
    const box = page.getByRole('textbox', { name: "What's happening?" });
    // 280 decomposed "é" (e + combining accent) are 560 code points, but 280 after NFC.
    await box.fill('e\u0301'.repeat(280));
    await expect.poll(() => page.getByText('280/280').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Post' }).isEnabled()).toBe(true);
    await box.fill('x'.repeat(281));
    await expect.poll(() => page.getByText('281/280').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Post' }).isEnabled()).toBe(false);

    // A taken username: the server's problem detail, in words.
    const other = await (await browser.newContext()).newPage();
    await other.goto(web.baseUrl);
    await other.getByRole('textbox', { name: 'Username' }).fill(`carol${suffix}`);
    await other.getByRole('button', { name: 'Sign up' }).click();
    const alert = other.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/taken/i);
  });
});
