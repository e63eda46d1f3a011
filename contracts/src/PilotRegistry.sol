// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title PilotRegistry
/// @notice Registry of the national blockchain pilot programme: comprehensive pilot zones,
///         sector fields, the entities running sector pilots, and those pilots.
/// @dev Roles: the national admin registers zones, sectors and entities, appoints one authority
///      per zone and any number of regulators. A zone authority approves, suspends and reinstates
///      the entities and pilots of its own zone only. An entity proposes pilots in its sectors.
///      A regulator can suspend any entity or pilot; what a regulator suspended only a regulator
///      reinstates. Only an active entity's pilots move on (approved, started, completed).
///      The role checks are this contract's own, not OpenZeppelin's AccessControl: a zone
///      authority's power is scoped to one zone, which global roles express only as one role per
///      zone plus a lookup; each check is a few lines, tried by the stateful test's random actors.
contract PilotRegistry {
    // ---------------------------------------------------------------- types

    enum EntityStatus { None, Pending, Active, Suspended }
    enum PilotStatus { None, Proposed, Approved, Active, Suspended, Completed }

    struct Zone {
        uint8 id;
        address authority;
        string name;
        string province;
    }

    struct Sector {
        uint8 id;
        uint8 category;
        string name;
    }

    struct Entity {
        uint32 id;
        uint8 zoneId;
        EntityStatus status;
        uint32 sectorMask; // bit (sectorId - 1) set for each sector the entity may pilot in
        address account;
        string name;
        string province;
    }

    struct Pilot {
        uint32 id;
        uint32 entityId;
        uint8 zoneId;
        uint8 sectorId;
        PilotStatus status;
        uint64 updatedAt;
        string title;
    }

    struct ZoneInput {
        string name;
        string province;
        address authority;
    }

    struct SectorInput {
        string name;
        uint8 category;
    }

    struct EntityInput {
        uint8 zoneId;
        uint32 sectorMask;
        address account;
        string name;
        string province;
    }

    struct PilotInput {
        uint32 entityId;
        uint8 sectorId;
        string title;
    }

    // ---------------------------------------------------------------- errors

    error NotAdmin(address caller);
    error NotZoneAuthority(address caller, uint8 zoneId);
    error NotAuthorityOrRegulator(address caller, uint8 zoneId);
    error NotEntityAccount(address caller, uint32 entityId);
    error NotEntityOrAuthority(address caller, uint32 pilotId);
    error ZeroAddress();
    error EmptyName();
    error TooManyZones();
    error TooManySectors();
    error UnknownZone(uint8 zoneId);
    error UnknownSector(uint8 sectorId);
    error UnknownEntity(uint32 entityId);
    error UnknownPilot(uint32 pilotId);
    error UnknownCategory(uint8 category);
    error EmptySectorMask();
    error AccountInUse(address account);
    error RegulatorExists(address account);
    error UnknownRegulator(address account);
    error SectorNotAllowed(uint32 entityId, uint8 sectorId);
    error EntityNotActive(uint32 entityId);
    error InvalidEntityTransition(uint32 entityId, EntityStatus from, EntityStatus to);
    error InvalidPilotTransition(uint32 pilotId, PilotStatus from, PilotStatus to);
    error HeldByRegulator(uint32 id);
    error LengthMismatch(uint256 sectors, uint256 masks);

    // ---------------------------------------------------------------- events

    event ZoneRegistered(uint8 indexed zoneId, string name, address authority);
    event AuthorityAppointed(uint8 indexed zoneId, address indexed previous, address indexed authority);
    event RegulatorAdded(address indexed account);
    event RegulatorRemoved(address indexed account);
    event SectorRegistered(uint8 indexed sectorId, string name, uint8 category);
    event EntityRegistered(uint32 indexed entityId, uint8 indexed zoneId, address account, uint32 sectorMask);
    event EntityStatusChanged(uint32 indexed entityId, EntityStatus from, EntityStatus to, address by);
    event PilotProposed(uint32 indexed pilotId, uint32 indexed entityId, uint8 sectorId, address by);
    event PilotStatusChanged(uint32 indexed pilotId, PilotStatus from, PilotStatus to, address by);
    /// @notice A party's own suspension of an entity (or a pilot) placed or lifted; the status changes only
    ///         with the first placed and the last lifted.
    event SuspensionChanged(uint32 indexed id, bool pilot, bool byRegulator, bool placed);
    event DataPolicySet(uint8 indexed requesterSector, uint32 dataSectorMask);

    // ---------------------------------------------------------------- state

    uint8 public constant MAX_SECTORS = 32;
    uint8 public constant CATEGORY_COUNT = 4;

    address public immutable admin;

    Zone[] private _zones; // index = zoneId - 1
    Sector[] private _sectors; // index = sectorId - 1
    Entity[] private _entities; // index = entityId - 1
    Pilot[] private _pilots; // index = pilotId - 1

    mapping(address => bool) public isRegulator;
    mapping(address => uint32) public entityOf; // account => entityId (0: none)
    // suspended by a regulator (not by the zone authority): only a regulator lifts it
    // Two suspensions may stand on one entity or pilot at once, its zone authority's and a regulator's (a
    // hold); it is suspended while either stands, and returns to what it was suspended from when both are lifted.
    mapping(uint32 entityId => bool) public entityHeldByRegulator;
    mapping(uint32 pilotId => bool) public pilotHeldByRegulator;
    mapping(uint32 entityId => bool) public entitySuspendedByAuthority;
    mapping(uint32 pilotId => bool) public pilotSuspendedByAuthority;
    mapping(uint32 entityId => EntityStatus) public entityResumesTo;
    mapping(uint32 pilotId => PilotStatus) public pilotResumesTo;
    /// @notice The sector policy: entities of a requester sector may request data of the sectors in
    ///         its mask. The zones' DataExchanges apply it when the hub's broadcaster brings it.
    mapping(uint8 requesterSector => uint32 dataSectorMask) public dataPolicy;

    constructor() {
        admin = msg.sender;
    }

    // ---------------------------------------------------------------- modifiers

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- admin

    function registerZones(ZoneInput[] calldata inputs) external onlyAdmin {
        for (uint256 i; i < inputs.length; ++i) {
            ZoneInput calldata z = inputs[i];
            if (_zones.length >= type(uint8).max) revert TooManyZones();
            if (bytes(z.name).length == 0) revert EmptyName();
            uint8 id = uint8(_zones.length + 1);
            _zones.push(Zone(id, z.authority, z.name, z.province));
            emit ZoneRegistered(id, z.name, z.authority);
            if (z.authority != address(0)) emit AuthorityAppointed(id, address(0), z.authority);
        }
    }

    function appointAuthority(uint8 zoneId, address authority) external onlyAdmin {
        if (authority == address(0)) revert ZeroAddress();
        Zone storage z = _zone(zoneId);
        emit AuthorityAppointed(zoneId, z.authority, authority);
        z.authority = authority;
    }

    function addRegulator(address account) external onlyAdmin {
        if (account == address(0)) revert ZeroAddress();
        if (isRegulator[account]) revert RegulatorExists(account);
        isRegulator[account] = true;
        emit RegulatorAdded(account);
    }

    function removeRegulator(address account) external onlyAdmin {
        if (!isRegulator[account]) revert UnknownRegulator(account);
        isRegulator[account] = false;
        emit RegulatorRemoved(account);
    }

    function registerSectors(SectorInput[] calldata inputs) external onlyAdmin {
        for (uint256 i; i < inputs.length; ++i) {
            SectorInput calldata s = inputs[i];
            if (_sectors.length >= MAX_SECTORS) revert TooManySectors();
            if (bytes(s.name).length == 0) revert EmptyName();
            if (s.category >= CATEGORY_COUNT) revert UnknownCategory(s.category);
            uint8 id = uint8(_sectors.length + 1);
            _sectors.push(Sector(id, s.category, s.name));
            emit SectorRegistered(id, s.name, s.category);
        }
    }

    /// @notice Set the sector policy of `requesterSectors` (the national admin's call).
    function setDataPolicies(uint8[] calldata requesterSectors, uint32[] calldata masks) external onlyAdmin {
        if (requesterSectors.length != masks.length) revert LengthMismatch(requesterSectors.length, masks.length);
        uint256 validMask = (uint256(1) << _sectors.length) - 1;
        for (uint256 i; i < requesterSectors.length; ++i) {
            _sector(requesterSectors[i]);
            if (masks[i] & ~validMask != 0) revert UnknownSector(_highestBit(masks[i]) + 1);
            dataPolicy[requesterSectors[i]] = masks[i];
            emit DataPolicySet(requesterSectors[i], masks[i]);
        }
    }

    /// @notice Register entities; they start Pending until their zone authority approves them.
    function registerEntities(EntityInput[] calldata inputs) external onlyAdmin {
        uint256 validMask = (uint256(1) << _sectors.length) - 1;
        for (uint256 i; i < inputs.length; ++i) {
            EntityInput calldata e = inputs[i];
            _zone(e.zoneId);
            if (e.account == address(0)) revert ZeroAddress();
            if (entityOf[e.account] != 0) revert AccountInUse(e.account);
            if (bytes(e.name).length == 0) revert EmptyName();
            if (e.sectorMask == 0) revert EmptySectorMask();
            if (e.sectorMask & ~validMask != 0) revert UnknownSector(_highestBit(e.sectorMask) + 1);
            uint32 id = uint32(_entities.length + 1);
            _entities.push(Entity(id, e.zoneId, EntityStatus.Pending, e.sectorMask, e.account, e.name, e.province));
            entityOf[e.account] = id;
            emit EntityRegistered(id, e.zoneId, e.account, e.sectorMask);
        }
    }

    /// @notice Seeding: register announced pilots on behalf of their entities (status Proposed).
    function registerPilots(PilotInput[] calldata inputs) external onlyAdmin {
        for (uint256 i; i < inputs.length; ++i) {
            PilotInput calldata p = inputs[i];
            _propose(_entity(p.entityId), p.sectorId, p.title);
        }
    }

    // ---------------------------------------------------------------- entity lifecycle

    function approveEntities(uint32[] calldata entityIds) external {
        for (uint256 i; i < entityIds.length; ++i) {
            Entity storage e = _entity(entityIds[i]);
            _requireAuthority(e.zoneId);
            _setEntityStatus(e, EntityStatus.Pending, EntityStatus.Active);
        }
    }

    /// @notice By the zone authority or a regulator, each its own suspension: a regulator's hold stacks on
    ///         the authority's (and the other way round); a pending or active entity becomes suspended.
    function suspendEntity(uint32 entityId) external {
        Entity storage e = _entity(entityId);
        _requireAuthorityOrRegulator(e.zoneId);
        bool regulator = _byRegulator(e.zoneId);
        mapping(uint32 => bool) storage mine = regulator ? entityHeldByRegulator : entitySuspendedByAuthority;
        if (mine[entityId] || (e.status != EntityStatus.Active && e.status != EntityStatus.Pending
                && e.status != EntityStatus.Suspended)) {
            revert InvalidEntityTransition(entityId, e.status, EntityStatus.Suspended);
        }
        mine[entityId] = true;
        emit SuspensionChanged(entityId, false, regulator, true);
        if (e.status == EntityStatus.Suspended) return; // stacked on the other party's
        entityResumesTo[entityId] = e.status;
        _setEntityStatus(e, e.status, EntityStatus.Suspended);
    }

    /// @notice Each party lifts its own suspension: the zone authority, once no regulator holds the entity;
    ///         a regulator, its hold. When none is left the entity returns to the status it was suspended from.
    function reinstateEntity(uint32 entityId) external {
        Entity storage e = _entity(entityId);
        bool held = entityHeldByRegulator[entityId];
        _requireReinstater(e.zoneId, entityId, held);
        if (e.status != EntityStatus.Suspended) revert InvalidEntityTransition(entityId, e.status, EntityStatus.Active);
        if (held) delete entityHeldByRegulator[entityId];
        else delete entitySuspendedByAuthority[entityId];
        emit SuspensionChanged(entityId, false, held, false);
        if (entityHeldByRegulator[entityId] || entitySuspendedByAuthority[entityId]) return; // the other stands
        _setEntityStatus(e, EntityStatus.Suspended, entityResumesTo[entityId]);
    }

    // ---------------------------------------------------------------- pilot lifecycle

    /// @notice An entity proposes a pilot in one of its sectors.
    function proposePilot(uint8 sectorId, string calldata title) external returns (uint32) {
        uint32 entityId = entityOf[msg.sender];
        if (entityId == 0) revert NotEntityAccount(msg.sender, 0);
        Entity storage e = _entities[entityId - 1];
        if (e.status != EntityStatus.Active) revert EntityNotActive(entityId);
        return _propose(e, sectorId, title);
    }

    function approvePilots(uint32[] calldata pilotIds) external {
        for (uint256 i; i < pilotIds.length; ++i) {
            Pilot storage p = _pilot(pilotIds[i]);
            _requireAuthority(p.zoneId);
            _requireEntityActive(p.entityId);
            _setPilotStatus(p, PilotStatus.Proposed, PilotStatus.Approved);
        }
    }

    /// @notice Start approved pilots: by the entity that runs it or by its zone authority.
    function activatePilots(uint32[] calldata pilotIds) external {
        for (uint256 i; i < pilotIds.length; ++i) {
            Pilot storage p = _pilot(pilotIds[i]);
            _requireEntityOrAuthority(p);
            _requireEntityActive(p.entityId);
            _setPilotStatus(p, PilotStatus.Approved, PilotStatus.Active);
        }
    }

    /// @notice As `suspendEntity`, for an approved or active pilot.
    function suspendPilot(uint32 pilotId) external {
        Pilot storage p = _pilot(pilotId);
        _requireAuthorityOrRegulator(p.zoneId);
        bool regulator = _byRegulator(p.zoneId);
        mapping(uint32 => bool) storage mine = regulator ? pilotHeldByRegulator : pilotSuspendedByAuthority;
        if (mine[pilotId] || (p.status != PilotStatus.Active && p.status != PilotStatus.Approved
                && p.status != PilotStatus.Suspended)) {
            revert InvalidPilotTransition(pilotId, p.status, PilotStatus.Suspended);
        }
        mine[pilotId] = true;
        emit SuspensionChanged(pilotId, true, regulator, true);
        if (p.status == PilotStatus.Suspended) return;
        pilotResumesTo[pilotId] = p.status;
        _setPilotStatus(p, p.status, PilotStatus.Suspended);
    }

    /// @notice As `reinstateEntity`, for a pilot (its entity must be active).
    function reinstatePilot(uint32 pilotId) external {
        Pilot storage p = _pilot(pilotId);
        bool held = pilotHeldByRegulator[pilotId];
        _requireReinstater(p.zoneId, pilotId, held);
        _requireEntityActive(p.entityId);
        if (p.status != PilotStatus.Suspended) revert InvalidPilotTransition(pilotId, p.status, PilotStatus.Active);
        if (held) delete pilotHeldByRegulator[pilotId];
        else delete pilotSuspendedByAuthority[pilotId];
        emit SuspensionChanged(pilotId, true, held, false);
        if (pilotHeldByRegulator[pilotId] || pilotSuspendedByAuthority[pilotId]) return;
        _setPilotStatus(p, PilotStatus.Suspended, pilotResumesTo[pilotId]);
    }

    /// @notice Completion is final: a suspended entity cannot put its pilots beyond a suspension.
    function completePilot(uint32 pilotId) external {
        Pilot storage p = _pilot(pilotId);
        _requireEntityOrAuthority(p);
        _requireEntityActive(p.entityId);
        _setPilotStatus(p, PilotStatus.Active, PilotStatus.Completed);
    }

    // ---------------------------------------------------------------- views

    function zoneCount() external view returns (uint256) {
        return _zones.length;
    }

    function sectorCount() external view returns (uint256) {
        return _sectors.length;
    }

    function entityCount() external view returns (uint256) {
        return _entities.length;
    }

    function pilotCount() external view returns (uint256) {
        return _pilots.length;
    }

    /// @notice Every entity's status in id order (index 0 is entity 1): the whole registry's state of
    /// approval in one call, to compare with a model or a mirror without reading every record.
    function entityStatuses() external view returns (EntityStatus[] memory statuses) {
        statuses = new EntityStatus[](_entities.length);
        for (uint256 i; i < statuses.length; ++i) statuses[i] = _entities[i].status;
    }

    /// @notice Every pilot's status in id order (index 0 is pilot 1).
    function pilotStatuses() external view returns (PilotStatus[] memory statuses) {
        statuses = new PilotStatus[](_pilots.length);
        for (uint256 i; i < statuses.length; ++i) statuses[i] = _pilots[i].status;
    }

    function getZone(uint8 zoneId) external view returns (Zone memory) {
        return _zone(zoneId);
    }

    function getSector(uint8 sectorId) external view returns (Sector memory) {
        return _sector(sectorId);
    }

    function getEntity(uint32 entityId) external view returns (Entity memory) {
        return _entity(entityId);
    }

    function getPilot(uint32 pilotId) external view returns (Pilot memory) {
        return _pilot(pilotId);
    }

    function listZones() external view returns (Zone[] memory) {
        return _zones;
    }

    function listSectors() external view returns (Sector[] memory) {
        return _sectors;
    }

    /// @notice Entities matching every non-zero filter, scanning ids from `cursor` (1-based).
    /// @return page up to `limit` matches; next the id to resume from, or 0 when the scan is done.
    function listEntities(uint8 zoneId, uint8 sectorId, EntityStatus status, uint32 cursor, uint32 limit)
        external
        view
        returns (Entity[] memory page, uint32 next)
    {
        Entity[] memory found = new Entity[](limit);
        uint256 n;
        uint256 id = cursor == 0 ? 1 : cursor;
        uint256 total = _entities.length;
        for (; id <= total && n < limit; ++id) {
            Entity storage e = _entities[id - 1];
            if (zoneId != 0 && e.zoneId != zoneId) continue;
            if (sectorId != 0 && (e.sectorMask >> (sectorId - 1)) & 1 == 0) continue;
            if (status != EntityStatus.None && e.status != status) continue;
            found[n++] = e;
        }
        assembly { mstore(found, n) }
        return (found, id <= total ? uint32(id) : 0);
    }

    /// @notice Pilots matching every non-zero filter, scanning ids from `cursor` (1-based).
    function listPilots(uint8 zoneId, uint8 sectorId, PilotStatus status, uint32 cursor, uint32 limit)
        external
        view
        returns (Pilot[] memory page, uint32 next)
    {
        Pilot[] memory found = new Pilot[](limit);
        uint256 n;
        uint256 id = cursor == 0 ? 1 : cursor;
        uint256 total = _pilots.length;
        for (; id <= total && n < limit; ++id) {
            Pilot storage p = _pilots[id - 1];
            if (zoneId != 0 && p.zoneId != zoneId) continue;
            if (sectorId != 0 && p.sectorId != sectorId) continue;
            if (status != PilotStatus.None && p.status != status) continue;
            found[n++] = p;
        }
        assembly { mstore(found, n) }
        return (found, id <= total ? uint32(id) : 0);
    }

    /// @notice True when the entity is Active and may act in `sectorId`.
    function isActiveIn(uint32 entityId, uint8 sectorId) external view returns (bool) {
        if (entityId == 0 || entityId > _entities.length || sectorId == 0 || sectorId > MAX_SECTORS) return false;
        Entity storage e = _entities[entityId - 1];
        return e.status == EntityStatus.Active && (e.sectorMask >> (sectorId - 1)) & 1 == 1;
    }

    // ---------------------------------------------------------------- internals

    function _zone(uint8 zoneId) private view returns (Zone storage) {
        if (zoneId == 0 || zoneId > _zones.length) revert UnknownZone(zoneId);
        return _zones[zoneId - 1];
    }

    function _sector(uint8 sectorId) private view returns (Sector storage) {
        if (sectorId == 0 || sectorId > _sectors.length) revert UnknownSector(sectorId);
        return _sectors[sectorId - 1];
    }

    function _entity(uint32 entityId) private view returns (Entity storage) {
        if (entityId == 0 || entityId > _entities.length) revert UnknownEntity(entityId);
        return _entities[entityId - 1];
    }

    function _pilot(uint32 pilotId) private view returns (Pilot storage) {
        if (pilotId == 0 || pilotId > _pilots.length) revert UnknownPilot(pilotId);
        return _pilots[pilotId - 1];
    }

    function _requireAuthority(uint8 zoneId) private view {
        if (msg.sender != _zones[zoneId - 1].authority) revert NotZoneAuthority(msg.sender, zoneId);
    }

    function _requireAuthorityOrRegulator(uint8 zoneId) private view {
        if (msg.sender != _zones[zoneId - 1].authority && !isRegulator[msg.sender]) {
            revert NotAuthorityOrRegulator(msg.sender, zoneId);
        }
    }

    /// @dev A suspension is the regulator's when the caller is a regulator and not the zone's authority.
    function _byRegulator(uint8 zoneId) private view returns (bool) {
        return msg.sender != _zones[zoneId - 1].authority;
    }

    function _requireReinstater(uint8 zoneId, uint32 id, bool heldByRegulator) private view {
        if (!heldByRegulator) return _requireAuthority(zoneId);
        if (!isRegulator[msg.sender]) revert HeldByRegulator(id);
    }

    function _requireEntityOrAuthority(Pilot storage p) private view {
        if (msg.sender != _entities[p.entityId - 1].account && msg.sender != _zones[p.zoneId - 1].authority) {
            revert NotEntityOrAuthority(msg.sender, p.id);
        }
    }

    function _requireEntityActive(uint32 entityId) private view {
        if (_entities[entityId - 1].status != EntityStatus.Active) revert EntityNotActive(entityId);
    }

    function _propose(Entity storage e, uint8 sectorId, string calldata title) private returns (uint32 id) {
        _sector(sectorId);
        if ((e.sectorMask >> (sectorId - 1)) & 1 == 0) revert SectorNotAllowed(e.id, sectorId);
        if (bytes(title).length == 0) revert EmptyName();
        id = uint32(_pilots.length + 1);
        _pilots.push(Pilot(id, e.id, e.zoneId, sectorId, PilotStatus.Proposed, uint64(block.timestamp), title));
        emit PilotProposed(id, e.id, sectorId, msg.sender);
    }

    function _setEntityStatus(Entity storage e, EntityStatus from, EntityStatus to) private {
        if (e.status != from) revert InvalidEntityTransition(e.id, e.status, to);
        e.status = to;
        emit EntityStatusChanged(e.id, from, to, msg.sender);
    }

    function _setPilotStatus(Pilot storage p, PilotStatus from, PilotStatus to) private {
        if (p.status != from) revert InvalidPilotTransition(p.id, p.status, to);
        p.status = to;
        p.updatedAt = uint64(block.timestamp);
        emit PilotStatusChanged(p.id, from, to, msg.sender);
    }

    function _highestBit(uint32 mask) private pure returns (uint8 bit) {
        while (mask > 1) {
            mask >>= 1;
            ++bit;
        }
    }
}
