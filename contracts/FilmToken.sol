// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155Supply} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155Supply.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title Seed One films as ERC-1155 tokens
/// @notice Holding >= 1 token of a film is a perpetual personal licence (tier 1). Holding more
/// unlocks the film's distribution tiers: tier = 1 + the number of thresholds <= balance.
/// Tokens never carry copyright. Sales proceeds go to the film's creator by pull payment;
/// secondary-sale royalties are advertised per film through ERC-2981.
contract FilmToken is ERC1155Supply, ERC2981, AccessControl, ReentrancyGuard {
    bytes32 public constant CREATOR_ROLE = keccak256("CREATOR_ROLE");

    struct Film {
        address creator;
        string metadataUri;
        uint256 price;
        uint256 maxSupply;
        uint256[] tierThresholds;
        /// @notice Set by retireFilm: no more sales, and the storage network stops keeping copies.
        bool retired;
    }

    error UnknownFilm(uint256 id);
    error EmptyMetadataUri();
    error ZeroMaxSupply();
    /// @param index position of the first threshold that is <= 1 or not above its predecessor
    error InvalidThresholds(uint256 index);
    error ZeroQuantity();
    error ExceedsMaxSupply(uint256 id, uint256 requested, uint256 remaining);
    error InsufficientPayment(uint256 required, uint256 sent);
    error NothingToWithdraw();
    error TransferFailed(address to, uint256 amount);
    /// @notice The film was retired: it is sold no more, and cannot be retired twice.
    error RetiredFilm(uint256 id);
    /// @notice Only the film's creator or the admin retires it.
    error NotFilmCreator(uint256 id, address account);

    event FilmRegistered(uint256 indexed id, address indexed creator, string metadataUri, uint256 price, uint256 maxSupply);
    event FilmPurchased(uint256 indexed id, address indexed buyer, uint256 quantity, uint256 paid);
    event ProceedsWithdrawn(address indexed creator, uint256 amount);
    event FilmRetired(uint256 indexed id, address indexed by);

    uint256 private _filmCount;
    mapping(uint256 id => Film) private _films;
    /// @notice Wei each creator can withdraw.
    mapping(address creator => uint256) public proceeds;

    /// @dev The deployer becomes the admin, who grants CREATOR_ROLE.
    constructor() ERC1155("") {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
    }

    modifier filmExists(uint256 id) {
        if (id == 0 || id > _filmCount) revert UnknownFilm(id);
        _;
    }

    function registerFilm(
        string calldata metadataUri,
        uint256 price,
        uint256 maxSupply,
        uint256[] calldata thresholds,
        address royaltyReceiver,
        uint96 royaltyBps
    ) external onlyRole(CREATOR_ROLE) returns (uint256 id) {
        if (bytes(metadataUri).length == 0) revert EmptyMetadataUri();
        if (maxSupply == 0) revert ZeroMaxSupply();
        uint256 previous = 1;
        for (uint256 i = 0; i < thresholds.length; i++) {
            if (thresholds[i] <= previous) revert InvalidThresholds(i);
            previous = thresholds[i];
        }

        id = ++_filmCount;
        _films[id] = Film(msg.sender, metadataUri, price, maxSupply, thresholds, false);
        _setTokenRoyalty(id, royaltyReceiver, royaltyBps);
        emit FilmRegistered(id, msg.sender, metadataUri, price, maxSupply);
    }

    function buy(uint256 id, uint256 quantity) external payable nonReentrant filmExists(id) {
        if (quantity == 0) revert ZeroQuantity();
        Film storage f = _films[id];
        if (f.retired) revert RetiredFilm(id);
        uint256 remaining = f.maxSupply - totalSupply(id);
        if (quantity > remaining) revert ExceedsMaxSupply(id, quantity, remaining);
        uint256 cost = f.price * quantity;
        if (msg.value < cost) revert InsufficientPayment(cost, msg.value);

        proceeds[f.creator] += cost;
        emit FilmPurchased(id, msg.sender, quantity, cost);
        _mint(msg.sender, id, quantity, "");
        if (msg.value > cost) _send(msg.sender, msg.value - cost);
    }

    /// @notice Takes the film out of the catalogue for good: it is sold no more, and the storage
    /// network stops keeping copies of it. Holders keep their tokens, their rights tier and the copy
    /// their box holds; transfers go on. Only the film's creator or the admin (DEFAULT_ADMIN_ROLE).
    function retireFilm(uint256 id) external filmExists(id) {
        Film storage f = _films[id];
        if (msg.sender != f.creator && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) revert NotFilmCreator(id, msg.sender);
        if (f.retired) revert RetiredFilm(id);
        f.retired = true;
        emit FilmRetired(id, msg.sender);
    }

    function withdraw() external nonReentrant {
        uint256 amount = proceeds[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        proceeds[msg.sender] = 0;
        emit ProceedsWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    function rightsTier(address holder, uint256 id) external view filmExists(id) returns (uint256 tier) {
        uint256 balance = balanceOf(holder, id);
        if (balance == 0) return 0;
        tier = 1;
        uint256[] storage steps = _films[id].tierThresholds;
        for (uint256 i = 0; i < steps.length && balance >= steps[i]; i++) {
            tier++;
        }
    }

    function film(uint256 id) external view filmExists(id) returns (Film memory) {
        return _films[id];
    }

    function filmCount() external view returns (uint256) {
        return _filmCount;
    }

    function tierThresholds(uint256 id) external view filmExists(id) returns (uint256[] memory) {
        return _films[id].tierThresholds;
    }

    /// @notice The film's metadata URI as registered (e.g. ipfs://<cid>); no {id} substitution.
    function uri(uint256 id) public view override filmExists(id) returns (string memory) {
        return _films[id].metadataUri;
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC1155, ERC2981, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
