"""What every command shares: option types, checks of their values, JSON and stderr output."""
