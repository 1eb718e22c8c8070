"""Offers beyond goods in hand: pre-orders against an expected harvest (预售) and adoptions (认养)."""
