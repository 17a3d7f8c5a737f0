// Signs in through the bridge's pages in a real browser (Debian's chromium, headless), the way a
// user does: Email Accounts → Add Account → "Sign in with Outlook" → Microsoft's (the emulator's)
// form → the success page → back to the list. Prints {"username", "password", "url"} as JSON on stdout and saves a
// screenshot of the success page (and of the list before and after, beside it).
//
//   node tests/browser/signin.mjs BRIDGE_URL LOGIN PASSWORD SCREENSHOT.png
//
// Exit 0 on success; 1 with a message on stderr (and SCREENSHOT with "-failure" added) otherwise.
// Any console error on the bridge's pages (a CSP violation, a missing resource) is a failure.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [bridgeUrl, login, password, screenshot] = process.argv.slice(2);
if (!bridgeUrl || !login || !password || !screenshot) {
  console.error('usage: node signin.mjs BRIDGE_URL LOGIN PASSWORD SCREENSHOT.png');
  process.exit(2);
}

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  console.error(`${executablePath} is missing; install Debian's chromium package (scripts/deps.sh does)`);
  process.exit(1);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtrixy-chromium-'));
const bridgeOrigin = new URL(bridgeUrl).origin;
const problems = [];
let context;
let page;

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    ignoreHTTPSErrors: true, // both the bridge and the emulator use self-signed certificates
    viewport: { width: 1100, height: 900 },
    timeout: 120000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(60000);
  page.on('console', (message) => {
    if (message.type() === 'error' && page.url().startsWith(bridgeOrigin)) {
      problems.push(`console error on ${page.url()}: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    if (response.url().startsWith(bridgeOrigin) && response.status() >= 400) {
      problems.push(`${response.status()} for ${response.url()}`);
    }
  });

  await page.goto(bridgeUrl + '/');
  if (!page.url().endsWith('/settings/email-accounts')) {
    throw new Error(`the bridge's front page did not lead to /settings/email-accounts but to ${page.url()}`);
  }
  await page.getByRole('heading', { name: 'Email Accounts' }).waitFor();

  await page.getByRole('link', { name: 'Add Account' }).click();
  const tile = page.getByRole('link', { name: /Sign in with Outlook/ });
  await tile.waitFor();
  if (!(await tile.textContent()).includes('PREFERRED')) throw new Error('the Outlook tile is not marked PREFERRED');
  fs.mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: path.join(path.dirname(screenshot), 'signin-add-account.png'), fullPage: true });
  await tile.click();

  // Microsoft's (the emulator's) sign-in and consent form.
  await page.waitForURL((url) => !url.href.startsWith(bridgeOrigin));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('button[name="consent"][value="accept"]').click();

  await page.waitForURL((url) => url.href.startsWith(bridgeOrigin + '/email-oauth/microsoft/callback'));
  await page.getByRole('heading', { name: 'Outlook connected successfully!' }).waitFor();
  const username = (await page.locator('code#bridge-username').textContent()).trim();
  const bridgePassword = (await page.locator('code#bridge-password').textContent()).trim();
  const successUrl = page.url().split('?')[0];
  await page.screenshot({ path: screenshot, fullPage: true });

  // "Done" leads back to the list, which now shows the account as active.
  await page.getByRole('link', { name: 'Done' }).click();
  await page.waitForURL(bridgeOrigin + '/settings/email-accounts');
  if (!(await page.locator('.account-email').allTextContents()).includes(username)) {
    throw new Error(`the accounts page does not list ${username}`);
  }
  await page.screenshot({ path: path.join(path.dirname(screenshot), 'signin-accounts.png'), fullPage: true });

  if (problems.length > 0) throw new Error(problems.join('\n'));
  console.log(JSON.stringify({ username, password: bridgePassword, url: successUrl }));
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  process.exit(0);
} catch (error) {
  console.error(`browser sign-in failed: ${error.message}`);
  if (problems.length > 0) console.error(problems.join('\n'));
  if (page) {
    try {
      console.error(`at ${page.url()}`);
      await page.screenshot({ path: screenshot.replace(/\.png$/, '') + '-failure.png', fullPage: true });
    } catch (ignored) {
      // the page may be gone; the message above is what matters
    }
  }
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
  process.exit(1);
}
