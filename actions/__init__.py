"""Custom actions of the 消费扶贫 assistant (rasa_sdk); each module is one feature."""
