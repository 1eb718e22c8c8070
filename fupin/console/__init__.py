"""What the county office's console reads and does: filtered orders and catalogue, listing history, admin actions."""
