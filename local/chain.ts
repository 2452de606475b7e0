// The local chain (docs/wallets.md): a hardhat 2 node (JSON-RPC, chain id 31337, automine) as a child
// process, or the node RPC_URL names; the test USDT deployed from its committed artifact; and the dev deposit
// seed, created at first start in the data dir, of which Cirrus gets only the account xpub (a file).
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ContractFactory,
  HDNodeWallet,
  JsonRpcProvider,
  Mnemonic,
  randomBytes,
  toQuantity,
  type Signer,
} from 'ethers';
import { DEPOSIT_ACCOUNT_PATH } from '@lambdas/wallet/deposit-address';
import { claimPort, killWithParent, stopChild } from './standins/ports';

const ROOT = join(__dirname, '..');
/** hardhat's well-known dev mnemonic: its accounts are funded with 10,000 ETH on every fresh node. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

export interface LocalChainOptions {
  /** Confirmations before a deposit is credited (default 1). */
  confirmations?: number;
  /** The listener's interval (default 1 s). */
  listenerEveryMs?: number;
}

export interface LocalChain {
  rpcUrl: string;
  usdt: string;
  /** True when this process started the node (a new, empty chain). */
  ownNode: boolean;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The funded dev account #0 (it also holds the test USDT supply). */
export function devSigner(provider: JsonRpcProvider): Signer {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/0").connect(provider);
}

/** Where `npm run chain:send` finds the running chain. */
export const chainInfoFile = (dataDir: string) => join(dataDir, 'chain.json');

async function startHardhat(port: number): Promise<{ rpcUrl: string; stop(): Promise<void> }> {
  const cli = join(ROOT, 'node_modules', 'hardhat', 'internal', 'cli', 'cli.js');
  const child = spawn(
    process.execPath,
    [
      cli,
      'node',
      '--hostname',
      '127.0.0.1',
      '--port',
      String(port),
      '--config',
      'local/chain/hardhat.config.cjs',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true' },
    },
  );
  const release = killWithParent(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('Started HTTP')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`hardhat node exited with ${code}: ${out.slice(-500)}`)));
  });
  // hardhat prints every request; only the start line was wanted.
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      release();
      await stopChild(child);
    },
  };
}

async function deployUsdt(provider: JsonRpcProvider): Promise<string> {
  const artifact = JSON.parse(readFileSync(join(__dirname, 'chain', 'TestUSDT.json'), 'utf8')) as {
    abi: object[];
    bytecode: string;
  };
  const token = await new ContractFactory(artifact.abi, artifact.bytecode, devSigner(provider)).deploy();
  await token.waitForDeployment();
  return (await token.getAddress()).toLowerCase();
}

/**
 * The deposit xpub file: the account xpub of a dev seed made at first start (kept in the data dir, mode
 * 0600, never printed). Only the xpub's path goes into the environment.
 */
function depositXpubFile(dataDir: string): string {
  const dir = join(dataDir, 'wallet');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const seedFile = join(dir, 'deposit-seed.txt');
  const xpubFile = join(dir, 'deposit-xpub.txt');
  if (!existsSync(seedFile))
    writeFileSync(seedFile, Mnemonic.fromEntropy(randomBytes(32)).phrase, { mode: 0o600 });
  const account = HDNodeWallet.fromPhrase(
    readFileSync(seedFile, 'utf8').trim(),
    undefined,
    DEPOSIT_ACCOUNT_PATH,
  );
  writeFileSync(xpubFile, account.neuter().extendedKey, { mode: 0o600 });
  return xpubFile;
}

export async function startLocalChain(opts: {
  dataDir: string;
  /** The node's port when this process starts one (0: a free port). */
  port: number;
  chain?: LocalChainOptions;
  log: (line: string) => void;
}): Promise<LocalChain> {
  const external = process.env.RPC_URL;
  const node = external ? undefined : await startHardhat(await claimPort(opts.port, 'local chain (hardhat)'));
  const rpcUrl = external ?? node!.rpcUrl;
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  try {
    // Against another node, CHAIN_TOKENS ({"USDT":"0x…"}) names a token already there instead of a new one.
    const given = process.env.CHAIN_TOKENS ? (JSON.parse(process.env.CHAIN_TOKENS) as { USDT?: string }) : {};
    // Deposits are unique per tx hash, and a fresh hardhat chain repeats the last one's hashes (same sender,
    // nonces and fees): a random starting nonce keeps a new session's deposits from looking like old ones.
    if (node)
      await provider.send('hardhat_setNonce', [
        await devSigner(provider).getAddress(),
        toQuantity(randomInt(1, 2 ** 40)),
      ]);
    const usdt = given.USDT?.toLowerCase() ?? (await deployUsdt(provider));
    const confirmations = opts.chain?.confirmations ?? 1;
    writeFileSync(chainInfoFile(opts.dataDir), JSON.stringify({ rpcUrl, usdt }, null, 2));
    opts.log(`chain        ${external ? 'node at RPC_URL' : 'hardhat node'} ${rpcUrl}, USDT ${usdt}`);
    return {
      rpcUrl,
      usdt,
      ownNode: !external,
      env: {
        CHAIN_RPC_URL: rpcUrl,
        CHAIN_TOKENS: JSON.stringify({ USDT: usdt }),
        CHAIN_CONFIRMATIONS: String(confirmations),
        DEPOSIT_XPUB_FILE: depositXpubFile(opts.dataDir),
      },
      stop: async () => {
        provider.destroy();
        await node?.stop();
      },
    };
  } catch (err) {
    provider.destroy();
    await node?.stop();
    throw err;
  }
}
