"""The cross-chain protocol: messages, committees, Merkle checkpoints, gateways, the network's topology,
provisioning, the relayer and the data-exchange application on top."""
