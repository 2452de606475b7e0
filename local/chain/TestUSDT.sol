// SPDX-License-Identifier: MIT
// The local chain's test stablecoin (local/chain.ts deploys it): OpenZeppelin's ERC-20 with USDT's 6 decimals,
// the whole supply minted to the deployer (the funded dev account that `npm run chain:send` sends from).
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract TestUSDT is ERC20 {
    constructor() ERC20("Tether USD (Cirrus test)", "USDT") {
        _mint(msg.sender, 1_000_000_000 * 10 ** 6);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
