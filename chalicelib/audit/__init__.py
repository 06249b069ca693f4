"""Exports for auditors (Parquet, hive-partitioned by dt), the hash-chain verifier, and local queries."""
