"""The app's widgets: the step list, the tab views and the error panel."""
