"""`diff`: what two snapshots read and know differently."""
