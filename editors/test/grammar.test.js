// Tokenize ECL with editors/ecl.tmLanguage.json through vscode-textmate (the
// engine VS Code uses) and check the scope of chosen tokens: keywords,
// constants, strings and their escapes, DIDs inside strings, comments, numbers,
// operators, calls, trust dimensions.  Ends with "N passed, N failed".
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const grammarPath = path.join(__dirname, '..', 'ecl.tmLanguage.json');
const samples = path.join(__dirname, 'samples');

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.ecl') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath);
    },
  });
  return registry.loadGrammar('source.ecl');
}

// [[{text, scopes}], ...] per line
function tokenize(grammar, text) {
  let state = vsctm.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

let passed = 0;
let failed = 0;

// The token of line `line` (1-based) whose text, with or without the blanks
// around it, is `text` (the nth such token)
// must carry `scope`; `scope` null means: no scope but source.ecl.
function expectScope(name, lines, line, text, scope, nth = 1) {
  const found = (lines[line - 1] || []).filter((t) => t.text === text || t.text.trim() === text);
  const tok = found[nth - 1];
  let ok;
  if (!tok) ok = false;
  else if (scope === null) ok = tok.scopes.length === 1 && tok.scopes[0] === 'source.ecl';
  else ok = tok.scopes.includes(scope);
  if (ok) {
    passed++;
  } else {
    failed++;
    const got = tok ? tok.scopes.join(' ') : 'no such token: ' +
      (lines[line - 1] || []).map((t) => JSON.stringify(t.text)).join(' ');
    console.log(`not ok ${name}:${line} ${JSON.stringify(text)} should be ${scope}; got ${got}`);
  }
}

(async () => {
  const grammar = await loadGrammar();
  const file = (f) => tokenize(grammar, fs.readFileSync(path.join(samples, f), 'utf8'));

  let t = file('transfer_guard.ecl');
  let n = 'transfer_guard.ecl';
  expectScope(n, t, 1, ' A transfer limit that grows with the caller\'s reliability.', 'comment.line.double-slash.ecl');
  expectScope(n, t, 1, '//', 'punctuation.definition.comment.ecl');
  expectScope(n, t, 2, ' Program constants are folded into the bytecode. ', 'comment.block.ecl');
  expectScope(n, t, 3, 'const', 'storage.type.ecl');
  expectScope(n, t, 3, 'MAX', null);
  expectScope(n, t, 3, '=', 'keyword.operator.assignment.ecl');
  expectScope(n, t, 3, '10000', 'constant.numeric.ecl');
  expectScope(n, t, 5, 'policy', 'storage.type.policy.ecl');
  expectScope(n, t, 5, 'transfer_guard', 'entity.name.function.policy.ecl');
  expectScope(n, t, 6, '0.5', 'constant.numeric.ecl');
  expectScope(n, t, 7, 'require', 'keyword.control.flow.ecl');
  expectScope(n, t, 7, 'trust', 'variable.language.context.ecl');
  expectScope(n, t, 7, 'r', 'variable.other.property.trust-dimension.ecl');
  expectScope(n, t, 7, '>=', 'keyword.operator.comparison.ecl');
  expectScope(n, t, 7, 'reliability too low', 'string.quoted.double.ecl');
  expectScope(n, t, 8, 'let', 'storage.type.ecl');
  expectScope(n, t, 8, '*', 'keyword.operator.arithmetic.ecl');
  expectScope(n, t, 10, 'if', 'keyword.control.conditional.ecl');
  expectScope(n, t, 11, 'has_credential', 'support.function.host.ecl');
  expectScope(n, t, 11, 'caller', 'variable.language.context.ecl');
  expectScope(n, t, 12, 'else', 'keyword.control.conditional.ecl');
  expectScope(n, t, 13, 'log', 'support.function.host.ecl');
  expectScope(n, t, 15, 'emit', 'keyword.control.flow.ecl');
  expectScope(n, t, 15, 'amount', null);
  expectScope(n, t, 17, 'return', 'keyword.control.flow.ecl');
  expectScope(n, t, 17, 'true', 'constant.language.boolean.ecl');

  t = file('doc_read.ecl');
  n = 'doc_read.ecl';
  expectScope(n, t, 2, 'doc read', 'string.quoted.double.ecl');
  expectScope(n, t, 3, '==', 'keyword.operator.comparison.ecl');
  expectScope(n, t, 6, 'load_trust', 'support.function.host.ecl');
  expectScope(n, t, 6, 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', 'string.other.did.ecl');
  expectScope(n, t, 6, 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', 'string.quoted.double.ecl');
  expectScope(n, t, 7, 'trust_norm', 'support.function.builtin.ecl');
  expectScope(n, t, 7, 'caller', 'variable.language.context.ecl');
  expectScope(n, t, 7, 'omega', 'variable.other.property.trust-dimension.ecl');
  expectScope(n, t, 7, '0.75', 'constant.numeric.ecl');
  expectScope(n, t, 8, '&&', 'keyword.operator.logical.ecl');
  expectScope(n, t, 8, '!', 'keyword.operator.logical.ecl');
  expectScope(n, t, 9, 'for', 'keyword.control.loop.ecl');
  expectScope(n, t, 9, 'in', 'keyword.control.loop.ecl');
  expectScope(n, t, 10, '||', 'keyword.operator.logical.ecl');
  expectScope(n, t, 10, 'credential', 'support.function.method.ecl');
  expectScope(n, t, 12, '1e3', 'constant.numeric.ecl');
  expectScope(n, t, 12, '?', 'keyword.operator.ternary.ecl');
  expectScope(n, t, 12, '\\t', 'constant.character.escape.ecl');
  expectScope(n, t, 12, '\\"', 'constant.character.escape.ecl');
  expectScope(n, t, 12, '\\u00e9', 'constant.character.escape.ecl');
  expectScope(n, t, 13, 'null', 'constant.language.null.ecl');
  expectScope(n, t, 13, 'false', 'constant.language.boolean.ecl');
  expectScope(n, t, 13, 'keys', 'support.function.builtin.ecl');

  t = file('declared_inputs.ecl');
  n = 'declared_inputs.ecl';
  expectScope(n, t, 3, 'policy', 'storage.type.policy.ecl');
  expectScope(n, t, 3, 'doc_read', 'entity.name.function.policy.ecl');
  expectScope(n, t, 3, 'owner', 'variable.parameter.input.ecl');
  expectScope(n, t, 3, 'did', 'support.type.input.ecl');
  expectScope(n, t, 3, 'classification', 'variable.parameter.input.ecl');
  expectScope(n, t, 3, 'string', 'support.type.input.ecl');
  expectScope(n, t, 3, 'level', 'variable.parameter.input.ecl');
  expectScope(n, t, 3, '?', 'keyword.operator.optional.ecl');
  expectScope(n, t, 3, 'number', 'support.type.input.ecl');
  expectScope(n, t, 4, 'require', 'keyword.control.flow.ecl');
  expectScope(n, t, 4, 'classification', null);
  expectScope(n, t, 4, '?', 'keyword.operator.ternary.ecl');

  // inline cases: a block comment over lines, an escaped quote that does not
  // end the string, a bad escape, a call of an unknown function
  t = tokenize(grammar, [
    'let a = 1 /* spans',
    '   two lines */ let b = "say \\"hi\\" \\q" + f(2)',
    'x.rate + t.Ω',
  ].join('\n'));
  n = 'inline';
  expectScope(n, t, 1, ' spans', 'comment.block.ecl');
  expectScope(n, t, 2, '   two lines ', 'comment.block.ecl');
  expectScope(n, t, 2, 'let', 'storage.type.ecl');
  expectScope(n, t, 2, 'say ', 'string.quoted.double.ecl');
  expectScope(n, t, 2, 'hi', 'string.quoted.double.ecl');
  expectScope(n, t, 2, '\\q', 'invalid.illegal.escape.ecl');
  expectScope(n, t, 2, '+', 'keyword.operator.arithmetic.ecl');
  expectScope(n, t, 2, 'f', 'entity.name.function.call.ecl');
  expectScope(n, t, 3, 'rate', null);
  expectScope(n, t, 3, 'Ω', 'variable.other.property.trust-dimension.ecl');

  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
})().catch((e) => {
  console.error(e);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exitCode = 1;
});
