"""The programme: the prompt library, its rules and statistics, import/export, and choosing the prompt a family gets."""
