// Small DOM helpers: text goes in as text nodes, never as HTML, so nothing the API returns can become markup.

export const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) element.append(child instanceof Node ? child : String(child ?? ''));
  return element;
}

/** Replaces a table body's rows; with none, one row saying `empty`. */
export function fillTable(table, rows, empty) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const columns = table.tHead.rows[0].cells.length;
    body.append(el('tr', {}, el('td', { colspan: columns }, empty)));
  }
}

export function showError(id, error) {
  $(id).textContent = error ? (error.message ?? String(error)) : '';
}

export function formatTime(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}
