"""Getting customer data in: file importers, dataset adapters and the demo-store generator."""
