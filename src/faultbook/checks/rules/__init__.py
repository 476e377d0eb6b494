"""One module per rule family; each rule is a small class over ``faultbook.checks.base.Rule``."""
