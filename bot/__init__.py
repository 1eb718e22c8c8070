"""Channels, scheduler and command line of the 消费扶贫 bot."""
