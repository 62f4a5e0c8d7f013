"""The chat page's CSS and JavaScript (no Gradio import; ``app.py`` hands them to Gradio).

Laptop: the chat fills the window height, the sources panel sits beside it and scrolls on its own. Phone
(< 700 px): one column, the chat first, the sources under it; nothing is wider than the screen.
"""

from __future__ import annotations

# Gradio's Chatbot takes a CSS height: tall on a laptop, most of the screen on a phone (see APP_CSS).
CHAT_HEIGHT = "max(420px, calc(100dvh - 235px))"

SOURCES_CSS = """
.icp-sources { font-size: 0.92rem; line-height: 1.45; }
.icp-sources > summary { cursor: pointer; list-style: none; }
.icp-sources > summary::-webkit-details-marker { display: none; }
.icp-sources > summary h3 { display: inline; margin: 0; }
.icp-sources > summary::after { content: " ▾"; color: var(--body-text-color-subdued); }
.icp-sources:not([open]) > summary::after { content: " ▸"; }
.icp-question { color: var(--body-text-color-subdued); margin: 0.3rem 0 0.6rem 0; overflow-wrap: anywhere; }
.icp-list { padding-left: 0; list-style: none; margin: 0; }
.icp-src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.55rem 0.7rem;
           margin-bottom: 0.6rem; scroll-margin-top: 1rem; overflow-wrap: anywhere; }
.icp-src:target, .icp-src.icp-flash { outline: 2px solid var(--color-accent); }
.icp-n { font-weight: 700; }
.icp-title { font-weight: 600; }
.icp-title-en, .icp-doc-id { color: var(--body-text-color-subdued); font-size: 0.85rem; }
.icp-doc-id { font-family: var(--font-mono); word-break: break-all; }
.icp-meta { margin: 0.25rem 0; }
.icp-badge { display: inline-block; border-radius: 999px; padding: 0 0.5rem; font-size: 0.8rem;
             font-weight: 600; background: #e5e7eb; color: #374151; }
.icp-status-in-force { background: #dcfce7; color: #166534; }
.icp-status-superseded { background: #fee2e2; color: #991b1b; }
.icp-status-amended { background: #fef3c7; color: #92400e; }
.icp-secondary { background: #e0f2fe; color: #075985; }
.icp-partial { background: #e0e7ff; color: #3730a3; }
.icp-kind { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.03em;
            color: var(--body-text-color-subdued); margin-left: 0.3rem; }
.icp-dates { font-size: 0.85rem; margin-left: 0.3rem; }
.icp-warning { background: #fff7ed; border-left: 4px solid #f97316; color: #9a3412; padding: 0.3rem 0.5rem;
               margin: 0.3rem 0; border-radius: 4px; }
.icp-quote summary { cursor: pointer; color: var(--color-accent); }
.icp-quote blockquote { margin: 0.3rem 0; padding-left: 0.6rem; border-left: 3px solid #d1d5db;
                        white-space: pre-wrap; }
"""

APP_CSS = """
#header h2 { font-size: 1.2rem; margin: 0 0 0.15rem 0; }
#header p { margin: 0; font-size: 0.88rem; color: var(--body-text-color-subdued); }
#chat .icon-button-wrapper.top-panel { display: none; }  /* "New conversation" clears the chat and its state */
#chat .placeholder-content { padding: 0.4rem 0.9rem; }
#chat .placeholder-content h3 { font-size: 1.1rem; margin: 0 0 0.5rem 0; }
#chat .placeholder-content p { font-size: 0.92rem; margin: 0.35rem 0; text-align: left; }
#chat .examples { gap: 0.5rem; padding: 0.4rem 0.9rem 0.8rem 0.9rem; }
#chat .example { border: 1px solid var(--border-color-accent); border-radius: 10px; padding: 0.5rem 0.75rem;
  background: var(--background-fill-secondary); }
#chat .example:hover { background: var(--color-accent-soft); }
#chat .message-row .message { max-width: min(100%, 860px); }
#chat .message-content ul { margin-top: 0.2rem; }
#chat a[href^="#src-"] { color: var(--color-accent); font-weight: 600; text-decoration: none; }
/* one chip per source, never more than one line: the name is cut with an ellipsis */
#chat .icp-chips { display: flex; flex-wrap: wrap; gap: 0.35rem; margin: 0.6rem 0 0.1rem 0; }
#chat a.icp-chip { display: inline-flex; align-items: center; gap: 0.3rem; max-width: 100%; white-space: nowrap;
  border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 0.1rem 0.55rem; font-size: 0.84rem;
  font-weight: 500; color: var(--body-text-color); background: var(--background-fill-primary); line-height: 1.5; }
#chat a.icp-chip:hover { border-color: var(--color-accent); }
#chat .icp-chip-n { color: var(--color-accent); font-weight: 700; flex: none; }
#chat .icp-chip-name { overflow: hidden; text-overflow: ellipsis; min-width: 0; }
#chat .icp-chip-tag, #chat .icp-tag { flex: none; font-size: 0.74rem; border-radius: 999px; padding: 0 0.4rem;
  background: #e5e7eb; color: #374151; white-space: nowrap; }
#chat .icp-chip-warn { color: #c2410c; flex: none; }
#chat .icp-tag-in-force { background: #dcfce7; color: #166534; }
#chat .icp-tag-superseded { background: #fee2e2; color: #991b1b; }
#chat .icp-tag-amended { background: #fef3c7; color: #92400e; }
#chat .icp-tag-secondary { background: #e0f2fe; color: #075985; }
/* related questions: Gradio's message options, as a row of chips */
#chat .options { display: flex; flex-wrap: wrap; gap: 0.4rem; padding: 0.2rem 0 0.8rem 0; margin: 0;
  max-width: 100%; justify-content: flex-start; }
#chat .option { width: auto; max-width: 100%; padding: 0.3rem 0.75rem; border-radius: 999px; font-size: 0.88rem;
  display: inline-block; text-align: left; border-style: solid; }
#chat .option::before { content: "↪ "; color: var(--color-accent); }
/* the regime finder's table */
#chat .icp-regime-title { margin-bottom: 0.3rem; }
#chat .icp-obs { display: grid; grid-template-columns: minmax(8rem, 12rem) max-content minmax(0, 1fr);
  border: 1px solid var(--border-color-primary); border-radius: 8px; overflow: hidden; margin: 0.3rem 0 0.6rem 0; }
#chat .icp-ob { display: contents; }
#chat .icp-ob > span { padding: 0.35rem 0.5rem; border-top: 1px solid var(--border-color-primary); }
#chat .icp-ob:first-child > span { border-top: none; }
#chat .icp-ob-label { font-weight: 600; }
#chat .icp-st { font-weight: 700; white-space: nowrap; }
#chat .icp-st-needed { background: #ffedd5; color: #9a3412; }
#chat .icp-st-not-needed { background: #dcfce7; color: #166534; }
#chat .icp-st-depends { background: #fef9c3; color: #854d0e; }
#chat .icp-st-not-possible { background: #fee2e2; color: #991b1b; }
#chat .icp-rchip { display: inline-block; font-size: 0.74rem; border: 1px solid var(--border-color-primary);
  border-radius: 999px; padding: 0 0.4rem; margin: 0.15rem 0.15rem 0 0; white-space: nowrap; max-width: 100%;
  overflow: hidden; text-overflow: ellipsis; vertical-align: bottom; color: var(--body-text-color-subdued); }
#chat .icp-facts { list-style: none; padding-left: 0; margin: 0.2rem 0 0.5rem 0; }
#chat .icp-fact { margin: 0.1rem 0; padding-left: 0; }
#chat .icp-fact::before { content: none; }
#chat .icp-fact-name { font-weight: 600; }
#chat .icp-fact-stated .icp-tag { background: #dcfce7; color: #166534; }
#chat .icp-fact-given .icp-tag { background: #dbeafe; color: #1e40af; }
#chat .icp-fact-matters .icp-tag { background: #fef3c7; color: #92400e; }
#chat .icp-span { color: var(--body-text-color-subdued); font-style: italic; }
#chat .icp-hint { color: var(--body-text-color-subdued); font-size: 0.85rem; font-weight: normal; }
#chat .icp-whatif summary { cursor: pointer; }
#chat .icp-dispute { border-left: 3px solid #f59e0b; padding-left: 0.5rem; }
#regime-panel { padding: 0.4rem 0.6rem; }
#regime-panel #follow-up p { margin: 0; font-size: 0.92rem; }
#follow-up-options { flex-wrap: wrap; gap: 0.35rem; }
#follow-up-options button { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
#fact-form .form { gap: 0.4rem; }
#sources { max-height: calc(100dvh - 140px); overflow-y: auto; position: sticky; top: 0.5rem; }
/* with the fact form under it, the chat gives up room so the question box stays on screen */
#chat-col:has(#regime-panel) #chat { height: max(360px, calc(100dvh - 420px)) !important; }
@media (max-width: 700px) {
  #header h2 { font-size: 1.02rem; }
  #header p { display: none; }
  #chat, #chat-col:has(#regime-panel) #chat { height: max(380px, calc(100dvh - 190px)) !important; }
  #chat .message-row { margin: 0.5rem 0.2rem !important; max-width: 100% !important; }
  #chat .bubble-wrap { padding-top: 0.4rem; }
  #tools { flex-wrap: nowrap; }
  #chat .examples { grid-template-columns: 1fr; gap: 0.35rem; }
  #chat .example { padding: 0.35rem 0.6rem; }
  #chat .placeholder-content p { font-size: 0.86rem; }
  #chat .icp-obs { grid-template-columns: minmax(0, 1fr) max-content; }
  #chat .icp-ob-why { grid-column: 1 / -1; border-top: none !important; padding-top: 0 !important; }
  #sources { max-height: none; position: static; }
  #ask-row { flex-wrap: nowrap; }
}
"""

# Gradio scopes APP_CSS to the elements inside the app; the page's own padding is outside that scope.
PAGE_HEAD = """<style>
@media (max-width: 700px) { .gradio-container .main.fillable { padding: 0.5rem 0.35rem !important; } }
</style>"""

# Document-level behaviour, installed once from the sources panel's ``js_on_load``:
# - [n] markers and source chips point at #src-n in the sources panel: scroll there in-page, open the panel
#   (folded on a phone) and the quote (Markdown links would otherwise open a new tab);
# - a new answer shows its start, not its end: Gradio's autoscroll is off and this scrolls the chat (and the
#   page, on a phone) to the question and the first line of the new answer once, when it appears.
PAGE_JS = """
if (!window.__icpChat) {
  window.__icpChat = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#src-"]');
    if (!link) return;
    const target = document.getElementById(link.getAttribute('href').slice(1));
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    const folded = target.closest('details');
    if (folded) folded.open = true;
    const quote = target.querySelector('details');
    if (quote) quote.open = true;
    // the panel scrolls on its own beside the chat (laptop); the page moves only when the entry is off screen
    const panel = document.getElementById('sources');
    if (panel && panel.scrollHeight > panel.clientHeight + 1) {
      panel.scrollTop += target.getBoundingClientRect().top - panel.getBoundingClientRect().top - 8;
    }
    const top = target.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 80) window.scrollBy(0, top - 8);
    target.classList.add('icp-flash');
    setTimeout(() => target.classList.remove('icp-flash'), 1600);
  }, true);

  // While an answer streams in (and a moment after), keep its start where it was put; any scrolling by the
  // reader ends that at once.
  let seen = 0, pinnedUntil = 0;
  const unpin = () => { pinnedUntil = 0; };
  ['wheel', 'touchstart', 'keydown', 'mousedown'].forEach((type) => window.addEventListener(type, unpin, true));
  const showStart = (bot) => {
    const log = bot.closest('[role="log"]');
    const users = document.querySelectorAll('#chat [data-testid="user"]');
    const user = users.length ? users[users.length - 1] : null;
    let anchor = bot;
    if (log && user) {  // show the question too when it is short enough to leave room for the answer
      const gap = bot.getBoundingClientRect().top - user.getBoundingClientRect().top;
      if (gap > 0 && gap < log.clientHeight * 0.3) anchor = user;
    }
    if (log) log.scrollTop += anchor.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
    const top = bot.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 160) {  // the page is scrolled away: bring back the whole chat if
      const chatTop = document.getElementById('chat').getBoundingClientRect().top;  // the answer then shows
      const anchorTop = anchor.getBoundingClientRect().top;
      window.scrollBy(0, anchorTop - chatTop + 160 < window.innerHeight ? chatTop - 8 : anchorTop - 8);
    }
  };
  new MutationObserver(() => {
    const bots = document.querySelectorAll('#chat [data-testid="bot"]');
    if (bots.length === 0) { seen = 0; return; }
    const now = Date.now();
    if (bots.length !== seen) {
      seen = bots.length;
      pinnedUntil = now + 1500;
    } else if (now < pinnedUntil) {
      pinnedUntil = Math.min(now + 1500, pinnedUntil + 1500);
    } else {
      return;
    }
    showStart(bots[bots.length - 1]);
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""

# Copies the ticket text; falls back to execCommand where the Clipboard API is unavailable (plain http).
COPY_JS = """
async (text) => {
  try { await navigator.clipboard.writeText(text); }
  catch (error) {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
  return text;
}
"""
