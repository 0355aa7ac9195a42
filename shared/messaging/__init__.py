"""Messaging: the topology, the one kombu adapter, the outbox, the inbox and the consumer loop."""
