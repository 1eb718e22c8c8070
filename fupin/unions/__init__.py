"""Unions (工会, buyers of category 家庭/工会): member counts, the yearly budget per member, and its progress.

The plan (进家庭) asks unions to spend 人均500元 of their funds on poor households' products of the villages they
help or of deep-poverty townships and villages: those purchases count towards the budget, others are shown apart.
"""
