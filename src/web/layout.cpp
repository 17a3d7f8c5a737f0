#include "layout.hpp"

namespace mailtrixy::web {
namespace {

constexpr std::string_view kDocument = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · MailTrixy Bridge</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
  <div class="topbar-inner">
    <a class="brand" href="/settings/email-accounts">
      <svg class="brand-mark" width="28" height="28" viewBox="0 0 28 28" aria-hidden="true" focusable="false">
        <rect width="28" height="28" rx="7" fill="#1d4ed8"/>
        <path d="M6 9.5 14 15l8-5.5V19a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 6 19z" fill="#fff"/>
        <path d="M6.6 8.2A1.5 1.5 0 0 1 7.5 7.5h13a1.5 1.5 0 0 1 .9.7L14 13.3z" fill="#bfdbfe"/>
      </svg>
      <span class="brand-name">MailTrixy <span class="brand-sub">Bridge</span></span>
    </a>
    <nav class="mainnav" aria-label="Main">
      <a href="/settings/email-accounts"{{accounts_current}}>Email Accounts</a>
      <a href="/admin/settings/integrations"{{admin_current}}>Admin</a>
      {{signout}}
    </nav>
  </div>
</header>
<main id="main" class="container">
{{body}}
</main>
<footer class="footer">
  <div class="container footer-inner">
    <span>MailTrixy Bridge {{version}}</span>
    <span>IMAP and SMTP for Outlook and Microsoft 365</span>
  </div>
</footer>
</body>
</html>
)";

constexpr std::string_view kSignOut = R"(<form class="nav-form" method="post" action="/admin/logout">
        {{csrf}}
        <button type="submit" class="nav-button">Sign out admin</button>
      </form>)";

constexpr std::string_view kCss =
    R"css(/* MailTrixy Bridge: one stylesheet for every page. No JavaScript anywhere. */
:root {
  --bg: #f4f6fb;
  --surface: #ffffff;
  --text: #1a2233;
  --muted: #4a5568;
  --border: #dde3ee;
  --primary: #1d4ed8;
  --primary-dark: #1e3a8a;
  --microsoft: #0067b8;
  --microsoft-dark: #004e8c;
  --success: #0f7b3f;
  --success-bg: #e7f6ed;
  --warning: #8a5300;
  --warning-bg: #fff4e0;
  --danger: #b42318;
  --danger-bg: #fdecea;
  --radius: 12px;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 4px 12px rgba(16, 24, 40, .06);
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.55 var(--font); }
a { color: var(--primary); }
a:hover { color: var(--primary-dark); }
:focus-visible { outline: 3px solid #93b4ff; outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip-link { position: absolute; left: -999px; top: 8px; background: #fff; padding: 8px 12px; border-radius: 8px; z-index: 10; }
.skip-link:focus { left: 8px; }
.container { max-width: 960px; margin: 0 auto; padding: 0 20px; }
main.container { padding-top: 32px; padding-bottom: 48px; min-height: calc(100vh - 140px); }

/* Header */
.topbar { background: var(--surface); border-bottom: 1px solid var(--border); }
.topbar-inner { max-width: 960px; margin: 0 auto; padding: 12px 20px; display: flex; align-items: center; justify-content: space-between; gap: 16px; flex-wrap: wrap; }
.brand { display: flex; align-items: center; gap: 10px; color: var(--text); text-decoration: none; font-weight: 700; font-size: 18px; }
.brand:hover { color: var(--text); }
.brand-sub { color: var(--muted); font-weight: 500; }
.mainnav { display: flex; align-items: center; gap: 4px; flex-wrap: wrap; }
.mainnav a, .nav-button { color: var(--muted); text-decoration: none; padding: 8px 12px; border-radius: 8px; font-weight: 500; font-size: 15px; }
.mainnav a:hover, .nav-button:hover { background: #eef2fa; color: var(--text); }
.mainnav a[aria-current="page"] { color: var(--primary); background: #e8efff; }
.nav-form { display: inline; margin: 0; }
.nav-button { border: 0; background: none; font-family: inherit; cursor: pointer; }

/* Page heading */
.breadcrumb { font-size: 14px; color: var(--muted); margin: 0 0 6px; }
.breadcrumb a { color: var(--muted); text-decoration: none; }
.breadcrumb a:hover { text-decoration: underline; }
h1 { font-size: 28px; line-height: 1.25; margin: 0 0 8px; letter-spacing: -.01em; }
h2 { font-size: 19px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 0 0 4px; }
.lead { color: var(--muted); margin: 0 0 28px; max-width: 680px; }
.page-header { margin-bottom: 8px; }

/* Cards */
.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 24px; margin-bottom: 24px; }
.card-header { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; margin-bottom: 16px; flex-wrap: wrap; }
.card-header p { margin: 0; color: var(--muted); font-size: 15px; }
.card > p:last-child { margin-bottom: 0; }
.muted { color: var(--muted); }
.small { font-size: 14px; }

/* Account list */
.account-list { list-style: none; margin: 0; padding: 0; }
.account { display: flex; align-items: center; gap: 16px; padding: 16px 0; border-top: 1px solid var(--border); flex-wrap: wrap; }
.account:first-child { border-top: 0; padding-top: 4px; }
.avatar { width: 44px; height: 44px; border-radius: 50%; background: #e8efff; color: var(--primary-dark); display: flex; align-items: center; justify-content: center; font-weight: 700; font-size: 18px; flex: none; }
.account-main { flex: 1 1 240px; min-width: 0; }
.account-email { font-weight: 600; overflow-wrap: anywhere; }
.account-meta { color: var(--muted); font-size: 14px; }
.account-actions { display: flex; gap: 8px; align-items: center; }
.empty { text-align: center; padding: 20px 8px; color: var(--muted); }
.empty strong { color: var(--text); display: block; margin-bottom: 4px; }

/* Status badges */
.badge { display: inline-flex; align-items: center; gap: 6px; font-size: 13px; font-weight: 600; padding: 3px 10px; border-radius: 999px; white-space: nowrap; }
.badge::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.badge-active { color: var(--success); background: var(--success-bg); }
.badge-attention { color: var(--danger); background: var(--danger-bg); }
.badge-neutral { color: var(--muted); background: #edf0f5; }

/* Provider tiles */
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 16px; }
.tile { position: relative; display: flex; align-items: center; gap: 16px; padding: 20px 22px; border-radius: var(--radius); text-decoration: none; min-height: 92px; border: 2px solid transparent; }
.tile-microsoft { background: var(--microsoft); color: #fff; box-shadow: 0 2px 6px rgba(0, 78, 140, .35); }
.tile-microsoft:hover, .tile-microsoft:focus-visible { background: var(--microsoft-dark); color: #fff; }
.tile-logo { flex: none; width: 48px; height: 48px; background: #fff; border-radius: 10px; display: flex; align-items: center; justify-content: center; }
.tile-text { display: flex; flex-direction: column; }
.tile-title { font-size: 18px; font-weight: 700; }
.tile-sub { font-size: 14px; opacity: .92; }
.tile-badge { position: absolute; top: -10px; right: 14px; background: #ffb900; color: #1a1a1a; font-size: 11px; font-weight: 800; letter-spacing: .08em; padding: 3px 9px; border-radius: 999px; box-shadow: 0 1px 3px rgba(0, 0, 0, .2); }
.tile-disabled { background: #8a99ad; box-shadow: none; cursor: not-allowed; }
.tile-disabled:hover { background: #8a99ad; }

/* Buttons and forms */
.button { display: inline-flex; align-items: center; justify-content: center; gap: 8px; font: 600 15px/1 var(--font); padding: 11px 18px; border-radius: 9px; border: 1px solid transparent; cursor: pointer; text-decoration: none; }
.button-primary { background: var(--primary); color: #fff; }
.button-primary:hover { background: var(--primary-dark); color: #fff; }
.button-secondary { background: #fff; color: var(--text); border-color: #c5cedd; }
.button-secondary:hover { background: #f1f4fa; color: var(--text); }
.button-danger { background: #fff; color: var(--danger); border-color: #f1b5ae; }
.button-small { padding: 8px 12px; font-size: 14px; }
.actions { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 20px; }
.field { margin-bottom: 18px; }
.field label { display: block; font-weight: 600; margin-bottom: 6px; }
.field .hint { display: block; color: var(--muted); font-size: 14px; margin-top: 6px; }
.field input { width: 100%; max-width: 520px; font: 15px var(--font); padding: 10px 12px; border: 1px solid #b9c3d3; border-radius: 8px; background: #fff; color: var(--text); }
.field input:focus { border-color: var(--primary); outline: 3px solid #c7d7fe; outline-offset: 0; }
.field input.mono { font-family: var(--mono); }
.inline-form { display: inline; margin: 0; }

/* Callouts */
.callout { border-radius: 10px; padding: 14px 16px; margin: 0 0 20px; border: 1px solid; }
.callout p { margin: 4px 0 0; }
.callout-success { background: var(--success-bg); border-color: #a6dcb9; color: #0b4f29; }
.callout-warning { background: var(--warning-bg); border-color: #f5cf8a; color: #5c3700; }
.callout-danger { background: var(--danger-bg); border-color: #f4b8b1; color: #7a1a12; }
.callout-info { background: #eaf1ff; border-color: #b9cdfb; color: #1e3a8a; }

/* Result pages */
.result { display: flex; gap: 18px; align-items: flex-start; margin-bottom: 24px; }
.result-icon { flex: none; width: 52px; height: 52px; border-radius: 50%; display: flex; align-items: center; justify-content: center; }
.result-icon-success { background: var(--success-bg); color: var(--success); }
.result-icon-error { background: var(--danger-bg); color: var(--danger); }
.result h1 { margin-top: 6px; }
.result p { margin: 0; color: var(--muted); }

/* Settings tables */
.settings { width: 100%; border-collapse: collapse; }
.settings th, .settings td { text-align: left; padding: 12px 10px; border-top: 1px solid var(--border); vertical-align: top; }
.settings tr:first-child th, .settings tr:first-child td { border-top: 0; }
.settings th { width: 34%; color: var(--muted); font-weight: 600; font-size: 15px; }
code, .code { font-family: var(--mono); font-size: 14.5px; background: #f1f4f9; border: 1px solid #e0e6f0; padding: 2px 7px; border-radius: 6px; overflow-wrap: anywhere; }
.secret { display: inline-block; font-size: 17px; padding: 6px 10px; background: #fffbea; border-color: #f0d78c; letter-spacing: .02em; }
.steps { margin: 8px 0 0; padding-left: 22px; }
.steps li { margin-bottom: 6px; }
.diagnoses { list-style: none; padding: 0; margin: 0; }
.diagnoses li { padding: 12px 0; border-top: 1px solid var(--border); }
.diagnoses li:first-child { border-top: 0; }
.diagnosis-key { font-family: var(--mono); font-size: 13px; color: var(--muted); }
.details { margin-top: 16px; font-size: 14px; color: var(--muted); }

/* Footer */
.footer { border-top: 1px solid var(--border); background: var(--surface); color: var(--muted); font-size: 13px; }
.footer-inner { display: flex; justify-content: space-between; gap: 12px; padding-top: 16px; padding-bottom: 16px; flex-wrap: wrap; }

@media (max-width: 600px) {
  main.container { padding-top: 20px; }
  h1 { font-size: 23px; }
  .card { padding: 18px; }
  .settings th, .settings td { display: block; width: 100%; padding: 6px 0; border-top: 0; }
  .settings tr { display: block; border-top: 1px solid var(--border); padding: 8px 0; }
  .settings tr:first-child { border-top: 0; }
  .result { flex-direction: column; gap: 8px; }
}
)css";

constexpr std::string_view kFavicon =
    R"svg(<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 28 28"><rect width="28" height="28" rx="7" fill="#1d4ed8"/><path d="M6 9.5 14 15l8-5.5V19a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 6 19z" fill="#fff"/><path d="M6.6 8.2A1.5 1.5 0 0 1 7.5 7.5h13a1.5 1.5 0 0 1 .9.7L14 13.3z" fill="#bfdbfe"/></svg>
)svg";

}  // namespace

std::string render_page(const PageFrame& frame) {
  const Html current = Html::trusted(R"( aria-current="page")");
  const Html signout =
      frame.admin_signed_in ? render(kSignOut, {{"csrf", csrf_field(frame.csrf_token)}}) : Html{};
  return render(kDocument, {{"title", frame.title},
                            {"accounts_current", frame.section == Section::accounts ? current : Html{}},
                            {"admin_current", frame.section == Section::admin ? current : Html{}},
                            {"signout", signout},
                            {"body", frame.body},
                            {"version", frame.version}})
      .str();
}

std::string_view app_css() {
  return kCss;
}
std::string_view favicon_svg() {
  return kFavicon;
}

Html microsoft_logo(int size) {
  // Microsoft's four squares: red, green, blue, yellow, with a one-unit gap, on a 23x23 grid.
  return render(
      R"(<svg width="{{size}}" height="{{size}}" viewBox="0 0 23 23" aria-hidden="true" focusable="false"><rect x="1" y="1" width="10" height="10" fill="#f25022"/><rect x="12" y="1" width="10" height="10" fill="#7fba00"/><rect x="1" y="12" width="10" height="10" fill="#00a4ef"/><rect x="12" y="12" width="10" height="10" fill="#ffb900"/></svg>)",
      {{"size", std::to_string(size)}});
}

Html csrf_field(std::string_view token) {
  return render(R"(<input type="hidden" name="csrf_token" value="{{token}}">)", {{"token", token}});
}

}  // namespace mailtrixy::web
