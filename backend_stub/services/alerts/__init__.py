"""Usage alerts (issue 17): told as the usage arrives, by SMS, e-mail and in the app, once per threshold.

``rating_pass.GroupAlerts`` finds them as the import rates each (subscription, period), from what is in
memory; ``evaluate.cost_alerts`` adds the cost warnings (the forecast of subscriptions that chose one);
``delivery.record`` writes each alert once and ``delivery.deliver_due`` sends what is due;
``choices`` holds the subscriber's settings, the roaming "continue" and the app's list.
``on_import.after_import`` is the one call the usage import makes once its batch has committed.
"""
