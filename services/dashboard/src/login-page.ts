/** What the sign-in form carries besides the key: its CSRF token, and where to go after signing in. */
export interface LoginForm {
  csrfToken: string;
  next: string;
  error?: string;
}

/** The sign-in page: one field, posted as a form, so it works without JavaScript. */
export function loginPage(form: LoginForm): string {
  const message = form.error ? `<p class="error" role="alert">${escapeHtml(form.error)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ferry: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}button{padding:.5rem 1rem}.error{color:#b00}</style>
</head><body><h1>ferry</h1>${message}
<form method="post" action="/login"><label for="api_key">API key</label>
<input id="api_key" name="api_key" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="csrf" value="${escapeHtml(form.csrfToken)}">
<input type="hidden" name="next" value="${escapeHtml(form.next)}">
<button type="submit">Sign in</button></form>
<p>No key yet? <code>npx ferry keys create --name you --role admin</code></p></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
