// Regenerates TestUSDT.json from TestUSDT.sol with npm `solc` (pinned in package.json) and the OpenZeppelin
// sources in node_modules: `npx tsx local/chain/compile.ts`. The artifact is committed so start-up compiles nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import solc from 'solc';

const ROOT = join(__dirname, '..', '..');

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts: Record<string, Record<string, { abi: object[]; evm: { bytecode: { object: string } } }>>;
}

const input = {
  language: 'Solidity',
  sources: { 'TestUSDT.sol': { content: readFileSync(join(__dirname, 'TestUSDT.sol'), 'utf8') } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const findImports = (path: string) => {
  try {
    return { contents: readFileSync(join(ROOT, 'node_modules', path), 'utf8') };
  } catch {
    return { error: `not found: ${path}` };
  }
};
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as SolcOutput;
const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}
const c = out.contracts['TestUSDT.sol'].TestUSDT;
const artifact = {
  contractName: 'TestUSDT',
  compiler: `solc ${solc.version()}`,
  abi: c.abi,
  bytecode: `0x${c.evm.bytecode.object}`,
};
writeFileSync(join(__dirname, 'TestUSDT.json'), `${JSON.stringify(artifact, null, 2)}\n`);
console.log(`TestUSDT.json written (${artifact.compiler}, ${c.evm.bytecode.object.length / 2} bytes)`);
