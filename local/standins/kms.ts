// A small KMS stand-in speaking the AWS JSON 1.1 protocol (no npm emulator exists): symmetric keys for
// Encrypt/Decrypt/GenerateDataKey (AES-256-GCM, the encryption context as AAD) and ECC_SECG_P256K1 keys for
// GetPublicKey/Sign (DER ECDSA signatures, as KMS returns them). Key material is kept in a JSON file in the
// local data dir: development only.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign as ecSign,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SigningKey } from 'ethers';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { claimPort, type Standin } from './ports';

interface StoredKey {
  keyId: string;
  spec: 'SYMMETRIC_DEFAULT' | 'ECC_SECG_P256K1';
  usage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
  description: string;
  /** base64 AES key, or a PKCS#8 PEM private key */
  material: string;
  created: number;
}

interface KmsState {
  keys: Record<string, StoredKey>;
  aliases: Record<string, string>;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const arn = (keyId: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;

export async function startKms(opts: { port: number; stateFile?: string }): Promise<Standin> {
  const port = await claimPort(opts.port, 'KMS stand-in');
  const state: KmsState =
    opts.stateFile && existsSync(opts.stateFile)
      ? (JSON.parse(readFileSync(opts.stateFile, 'utf8')) as KmsState)
      : { keys: {}, aliases: {} };
  const save = () => {
    if (opts.stateFile) writeFileSync(opts.stateFile, JSON.stringify(state), { mode: 0o600 });
  };

  const resolve = (ref: unknown): StoredKey => {
    const s = String(ref ?? '');
    const id = s.startsWith('alias/')
      ? state.aliases[s]
      : s.startsWith('arn:')
        ? (s.split('/').pop() as string)
        : s;
    const key = id ? state.keys[id] : undefined;
    if (!key) throw new KmsError('NotFoundException', `Key '${s}' does not exist`);
    return key;
  };
  const metadata = (k: StoredKey) => ({
    KeyId: k.keyId,
    Arn: arn(k.keyId),
    KeySpec: k.spec,
    CustomerMasterKeySpec: k.spec,
    KeyUsage: k.usage,
    KeyState: 'Enabled',
    Enabled: true,
    Description: k.description,
    CreationDate: k.created / 1000,
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    ...(k.spec === 'ECC_SECG_P256K1'
      ? { SigningAlgorithms: ['ECDSA_SHA_256'] }
      : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
  });
  const aad = (context: unknown) =>
    Buffer.from(
      JSON.stringify(
        Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
    );
  const encrypt = (k: StoredKey, plaintext: Buffer, context: unknown): Buffer => {
    if (k.usage !== 'ENCRYPT_DECRYPT')
      throw new KmsError('InvalidKeyUsageException', 'key is not for encryption');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(k.material, 'base64'), iv);
    cipher.setAAD(aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(k.keyId);
    return Buffer.concat([Buffer.from([1, id.length]), id, iv, cipher.getAuthTag(), body]);
  };

  const ops: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateKey: (input) => {
      const spec = (input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT') as StoredKey['spec'];
      const keyId = randomUUID();
      let material: string;
      if (spec === 'SYMMETRIC_DEFAULT') material = randomBytes(32).toString('base64');
      else if (spec === 'ECC_SECG_P256K1')
        material = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }) as string;
      else
        throw new KmsError(
          'UnsupportedOperationException',
          `KeySpec ${spec} is not supported by the local stand-in`,
        );
      const key: StoredKey = {
        keyId,
        spec,
        usage: spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY',
        description: String(input.Description ?? ''),
        material,
        created: Date.now(),
      };
      state.keys[keyId] = key;
      save();
      return { KeyMetadata: metadata(key) };
    },
    DescribeKey: (input) => ({ KeyMetadata: metadata(resolve(input.KeyId)) }),
    CreateAlias: (input) => {
      const name = String(input.AliasName);
      if (state.aliases[name]) throw new KmsError('AlreadyExistsException', `alias ${name} exists`);
      state.aliases[name] = resolve(input.TargetKeyId).keyId;
      save();
      return {};
    },
    ListAliases: () => ({
      Aliases: Object.entries(state.aliases).map(([AliasName, TargetKeyId]) => ({
        AliasName,
        TargetKeyId,
        AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:${AliasName}`,
      })),
      Truncated: false,
    }),
    Encrypt: (input) => {
      const k = resolve(input.KeyId);
      return {
        KeyId: arn(k.keyId),
        CiphertextBlob: encrypt(
          k,
          Buffer.from(String(input.Plaintext), 'base64'),
          input.EncryptionContext,
        ).toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    GenerateDataKey: (input) => {
      const k = resolve(input.KeyId);
      const bytes = input.NumberOfBytes ? Number(input.NumberOfBytes) : input.KeySpec === 'AES_128' ? 16 : 32;
      const plaintext = randomBytes(bytes);
      return {
        KeyId: arn(k.keyId),
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: encrypt(k, plaintext, input.EncryptionContext).toString('base64'),
      };
    },
    Decrypt: (input) => {
      const blob = Buffer.from(String(input.CiphertextBlob), 'base64');
      if (blob[0] !== 1)
        throw new KmsError('InvalidCiphertextException', 'not a ciphertext of this stand-in');
      const idLen = blob[1];
      const keyId = blob.subarray(2, 2 + idLen).toString();
      const k = resolve(keyId);
      if (input.KeyId && resolve(input.KeyId).keyId !== keyId)
        throw new KmsError('IncorrectKeyException', 'ciphertext was made with another key');
      const iv = blob.subarray(2 + idLen, 14 + idLen);
      const tag = blob.subarray(14 + idLen, 30 + idLen);
      const decipher = createDecipheriv('aes-256-gcm', Buffer.from(k.material, 'base64'), iv);
      decipher.setAAD(aad(input.EncryptionContext));
      decipher.setAuthTag(tag);
      try {
        const plain = Buffer.concat([decipher.update(blob.subarray(30 + idLen)), decipher.final()]);
        return {
          KeyId: arn(keyId),
          Plaintext: plain.toString('base64'),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      } catch {
        throw new KmsError('InvalidCiphertextException', 'ciphertext or encryption context does not match');
      }
    },
    GetPublicKey: (input) => {
      const k = resolve(input.KeyId);
      if (k.spec !== 'ECC_SECG_P256K1')
        throw new KmsError('UnsupportedOperationException', 'not an asymmetric key');
      const spki = createPublicKey(createPrivateKey(k.material)).export({ type: 'spki', format: 'der' });
      return {
        KeyId: arn(k.keyId),
        PublicKey: spki.toString('base64'),
        KeySpec: k.spec,
        CustomerMasterKeySpec: k.spec,
        KeyUsage: k.usage,
        SigningAlgorithms: ['ECDSA_SHA_256'],
      };
    },
    Sign: (input) => {
      const k = resolve(input.KeyId);
      if (k.usage !== 'SIGN_VERIFY') throw new KmsError('InvalidKeyUsageException', 'key is not for signing');
      const message = Buffer.from(String(input.Message), 'base64');
      const key = createPrivateKey(k.material);
      // DIGEST: sign the given 32 bytes as they are; RAW: SHA-256 first. Both give DER signatures.
      const signature =
        input.MessageType === 'DIGEST' ? signDigest(key, message) : ecSign('sha256', message, key);
      return {
        KeyId: arn(k.keyId),
        Signature: signature.toString('base64'),
        SigningAlgorithm: 'ECDSA_SHA_256',
      };
    },
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      try {
        const handler = ops[op];
        if (!handler)
          throw new KmsError(
            'UnsupportedOperationException',
            `${op} is not supported by the local KMS stand-in`,
          );
        reply(
          200,
          handler(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>),
        );
      } catch (err) {
        if (err instanceof KmsError) reply(400, { __type: err.type, message: err.message });
        else reply(500, { __type: 'KMSInternalException', message: String(err) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** ECDSA over a precomputed digest (node's crypto always hashes first), DER-encoded as KMS returns it. */
function signDigest(key: ReturnType<typeof createPrivateKey>, digest: Buffer): Buffer {
  const jwk = key.export({ format: 'jwk' }) as { d: string };
  const sig = new SigningKey(Buffer.from(jwk.d, 'base64url')).sign(digest);
  const int = (hex: string) => {
    let b = Buffer.from(hex.slice(2), 'hex');
    while (b.length > 1 && b[0] === 0 && !(b[1] & 0x80)) b = b.subarray(1);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([2, b.length]), b]);
  };
  const body = Buffer.concat([int(sig.r), int(sig.s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
