// models.list as a table: what each model can do (its generation methods) and take (its token limits, and the inputs
// its description names).
import { listAll } from './api.js';
import { $, el, fillTable, showError } from './dom.js';

export async function show() {
  showError('models-error', null);
  try {
    const models = await listAll('/v1beta/models', 'models');
    fillTable($('models-table'), models.map((m) => {
      const sampling = [['temperature', m.temperature], ['topP', m.topP], ['topK', m.topK]]
        .filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k} ${v}`).join(', ');
      return el('tr', {},
        el('th', { scope: 'row' }, m.name.replace(/^models\//, '')),
        el('td', {}, m.displayName ?? ''),
        el('td', {}, (m.supportedGenerationMethods ?? []).join(', ')),
        el('td', {}, m.inputTokenLimit ?? ''),
        el('td', {}, m.outputTokenLimit ?? ''),
        el('td', {}, m.thinking ? 'yes' : 'no'),
        el('td', {}, sampling),
        // The API has no field for input modalities; the description names them ("Accepts text and images …").
        el('td', {}, m.description ?? ''));
    }), 'No models are loaded.');
  } catch (error) {
    showError('models-error', error);
  }
}
