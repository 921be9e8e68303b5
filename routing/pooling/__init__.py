"""Common distribution: pool several firms' parcels, drop them at lockers, split the savings."""
