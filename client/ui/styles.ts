// Shared look: system colours (light and dark), visible focus, readable line lengths.
import { css } from 'lit'

export const sharedStyles = css`
  :host {
    display: block;
    color: var(--fg);
  }
  * {
    box-sizing: border-box;
  }
  h2 {
    font-size: 1.25rem;
    margin: 0 0 0.75rem;
  }
  h3 {
    font-size: 1.05rem;
    margin: 0 0 0.5rem;
  }
  p {
    line-height: 1.5;
  }
  a {
    color: var(--accent);
  }
  button,
  .button {
    font: inherit;
    border: 1px solid var(--border);
    background: var(--surface);
    color: var(--fg);
    border-radius: 6px;
    padding: 0.4rem 0.8rem;
    cursor: pointer;
    text-decoration: none;
    display: inline-block;
  }
  button.primary,
  .button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--on-accent);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button:focus-visible,
  a:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  canvas:focus-visible,
  summary:focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  input,
  select,
  textarea {
    font: inherit;
    color: var(--fg);
    background: var(--bg);
    border: 1px solid var(--border);
    border-radius: 6px;
    padding: 0.4rem 0.5rem;
    width: 100%;
  }
  textarea {
    min-height: 7rem;
    resize: vertical;
  }
  label {
    display: block;
    font-weight: 600;
    margin: 0.75rem 0 0.25rem;
  }
  .hint {
    color: var(--muted);
    font-size: 0.9rem;
    font-weight: normal;
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 10px;
    padding: 1rem;
  }
  .row {
    display: flex;
    gap: 0.5rem;
    flex-wrap: wrap;
    align-items: center;
  }
  .notice {
    border-radius: 8px;
    padding: 0.75rem 1rem;
    border: 1px solid var(--border);
    background: var(--surface);
  }
  .notice.error {
    border-color: var(--danger);
    background: var(--danger-bg);
  }
  .notice.warn {
    border-color: var(--warn);
    background: var(--warn-bg);
  }
  .empty {
    color: var(--muted);
    text-align: center;
    padding: 2rem 1rem;
  }
  .badge {
    display: inline-block;
    font-size: 0.8rem;
    border-radius: 999px;
    padding: 0.1rem 0.55rem;
    border: 1px solid var(--border);
    white-space: nowrap;
  }
  .badge.online,
  .badge.success {
    border-color: var(--ok);
    color: var(--ok);
  }
  .badge.late,
  .badge.payment-required,
  .badge.partial {
    border-color: var(--warn);
    color: var(--warn);
  }
  .badge.offline,
  .badge.error {
    border-color: var(--danger);
    color: var(--danger);
  }
  .mono {
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    font-size: 0.85rem;
    overflow-wrap: anywhere;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`
