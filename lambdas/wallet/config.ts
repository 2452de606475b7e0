// The wallet function's configuration (docs/wallets.md#configuration), parsed once per container.
import { z } from 'zod';
import { configOnce, parseConfig } from '../shared/config';

const walletConfigSchema = z.object({
  /** The node the hot wallet signs for (the Chain stack's node, or context `chainRpcUrl`). */
  CHAIN_RPC_URL: z.string().url(),
  /** The KMS key (ECC_SECG_P256K1) whose public key is the hot wallet; the material never leaves KMS. */
  HOT_WALLET_KEY_ID: z.string().min(1),
  /** Confirmations before a mined withdrawal is final. */
  CHAIN_CONFIRMATIONS: z.coerce.number().int().min(1).default(1),
  /** The network name the address action reports. */
  CHAIN_NETWORK: z.string().min(1).default('unknown'),
});

/** Parsed now: for a factory run once per container in AWS (and once per local start, which may differ). */
export const loadWalletConfig = () => parseConfig('wallet', walletConfigSchema);

/** Parsed on first use, kept for the container. */
export const walletConfig = configOnce('wallet', walletConfigSchema);
