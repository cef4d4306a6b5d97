"""Plans, subscriptions (Stripe or the local provider), entitlements and the module flags that gate them."""
