// The local chain (local/chain.ts): hardhat's in-memory network, chain id 31337, automine, the default dev
// mnemonic's funded accounts. Nothing to compile here (the test token's artifact is committed); any cache
// hardhat writes goes to the ignored data dir.
/* global module */
/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
  networks: { hardhat: { chainId: 31337 } },
  paths: {
    sources: './no-sources',
    cache: '../../.cirrus/hardhat-cache',
    artifacts: '../../.cirrus/hardhat-artifacts',
  },
};
