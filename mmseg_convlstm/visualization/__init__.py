"""Pictures of the prediction after every recurrent step."""
