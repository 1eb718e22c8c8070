"""Delivery records (物流数据): how each delivered order travelled, the carriers' exports, and the figures."""
